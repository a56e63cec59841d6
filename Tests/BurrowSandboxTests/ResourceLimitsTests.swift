import BurrowLaunch
@testable import BurrowSandbox
import BurrowSystem
import Glibc
import Testing

/// The limit flags read as Docker reads them, and what they turn into.
struct ResourceLimitsTests {
    func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Sizes as docker/go-units RAMInBytes reads them (powers of 1024).
    @Test(arguments: [
        ("100m", 104_857_600), ("100M", 104_857_600), ("100mb", 104_857_600), ("100MiB", 104_857_600), ("100 m", 104_857_600),
        ("1g", 1_073_741_824), ("1.5g", 1_610_612_736), ("512k", 524_288), ("512KB", 524_288), ("2t", 2_199_023_255_552),
        ("1p", 1_125_899_906_842_624), ("6291456", 6_291_456), ("1b", 1), ("0.1k", 102), ("1e3", 1000), ("7.9", 7),
    ] as [(String, Int64)])
    func sizes(text: String, bytes: Int64) throws {
        #expect(try ResourceLimits.size(text) == bytes)
    }

    @Test(arguments: [
        ("x", "invalid size: 'x'"), ("-1", "invalid size: '-1'"), ("", "invalid size: ''"), ("m", "invalid size: 'm'"),
        ("1.2.3m", "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"), (" m", "strconv.ParseFloat: parsing \"\": invalid syntax"),
        ("100mx", "invalid suffix: 'mx'"), ("100kbb", "invalid suffix: 'kbb'"), ("10zb", "invalid suffix: 'zb'"),
        ("1bytes", "invalid suffix: 'bytes'"), ("1bb", "invalid suffix: 'bb'"), ("1mib2", "strconv.ParseFloat: parsing \"1mib2\": invalid syntax"),
        ("9000000p", "invalid size: '9000000p'"),
    ])
    func badSizes(text: String, reason: String) {
        do {
            _ = try ResourceLimits.size(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.text == reason)
        }
    }

    /// --cpus as Docker's NanoCPUs: exact, whatever way the number is written.
    @Test(arguments: [
        ("1.5", 1_500_000_000), ("0.5", 500_000_000), ("2", 2_000_000_000), ("3/2", 1_500_000_000), ("15e-1", 1_500_000_000),
        (".25", 250_000_000), ("1.50", 1_500_000_000), ("0.01", 10_000_000), ("0.123456789", 123_456_789), ("0", 0),
        ("100e-2", 1_000_000_000), ("+1", 1_000_000_000), ("-1", -1_000_000_000), ("0.0000000010", 1),
    ] as [(String, Int64)])
    func cpus(text: String, nanos: Int64) throws {
        #expect(try ResourceLimits.nanoCPUs(text) == nanos)
    }

    @Test(arguments: [
        ("x", "failed to parse x as a rational number"), (".", "failed to parse . as a rational number"),
        ("1.2.3", "failed to parse 1.2.3 as a rational number"), ("1/0", "failed to parse 1/0 as a rational number"),
        ("1e", "failed to parse 1e as a rational number"), ("0.0000000001", "value is too precise"), ("1e-10", "value is too precise"),
        ("1/3", "value is too precise"),
    ])
    func badCPUs(text: String, reason: String) {
        do {
            _ = try ResourceLimits.nanoCPUs(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.text == reason)
        }
    }

    /// cpu.weight from --cpu-shares, as crun 1.23 and runc 1.3 convert it.
    @Test(arguments: [
        (2, 1), (1, 1), (3, 2), (10, 4), (100, 17), (512, 59), (1000, 99), (1024, 100), (2048, 174), (4096, 303),
        (100_000, 4340), (262_143, 10_000), (262_144, 10_000), (1_000_000, 10_000),
    ] as [(Int64, Int64)])
    func cpuWeight(shares: Int64, weight: Int64) {
        #expect(ResourceLimits.cpuWeight(shares: shares) == weight)
    }

    @Test func cgroupLimitsBecomeTheirFiles() throws {
        let limits = try ResourceLimits.parse(memory: "100m", memorySwap: "300m", cpus: "1.5", cpuShares: "512", cpusetCPUs: "0-1",
                                              pidsLimit: "100", cpuCount: 4)
        #expect(limits.needsCgroup)
        #expect(limits.controllerNeeds.map(\.flag) == ["--memory", "--memory-swap", "--cpus", "--cpu-shares", "--cpuset-cpus", "--pids-limit"])
        #expect(limits.controllerNeeds.map(\.controller) == ["memory", "memory", "cpu", "cpu", "cpuset", "pids"])
        let files = try limits.cgroupFiles(swapAccounting: true)
        #expect(files.map(\.file) == ["memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus", "pids.max"])
        #expect(files.map(\.value) == ["104857600", "209715200", "150000 100000", "59", "0-1", "100"])
    }

    @Test(arguments: [
        ("1.5", "150000 100000"), ("0.5", "50000 100000"), ("2", "200000 100000"), ("0.01", "1000 100000"), ("0.123456789", "12345 100000"),
    ])
    func cpuMax(cpus: String, value: String) throws {
        let files = try ResourceLimits.parse(cpus: cpus, cpuCount: 2).cgroupFiles(swapAccounting: true)
        #expect(files.map(\.file) == ["cpu.max"] && files.map(\.value) == [value])
    }

    /// memory.swap.max is swap alone: Docker's --memory-swap less --memory,
    /// as much as the memory when not given, "max" for -1.
    @Test(arguments: [
        ("100m", nil, true, ["104857600", "104857600"]),
        ("100m", "100m", true, ["104857600", "0"]),
        ("100m", "1g", true, ["104857600", "968884224"]),
        ("100m", "-1", true, ["104857600", "max"]),
        ("100m", "0", true, ["104857600", "104857600"]),
        ("100m", nil, false, ["104857600"]),
        ("100m", "-1", false, ["104857600"]),
    ] as [(String, String?, Bool, [String])])
    func swap(memory: String, swap: String?, accounting: Bool, values: [String]) throws {
        let files = try ResourceLimits.parse(memory: memory, memorySwap: swap).cgroupFiles(swapAccounting: accounting)
        #expect(files.map(\.value) == values)
        #expect(files.map(\.file) == Array(["memory.max", "memory.swap.max"].prefix(values.count)))
    }

    @Test func anExplicitSwapLimitWithoutSwapAccountingIsAnError() throws {
        let limits = try ResourceLimits.parse(memory: "100m", memorySwap: "200m")
        #expect(message { try limits.cgroupFiles(swapAccounting: false) }
            == "--memory-swap needs swap accounting, but the kernel does not account swap in cgroups (there is no memory.swap.max): ask an administrator to boot with swapaccount=1, or run without --memory-swap")
    }

    /// Values that mean "no limit" ask for no cgroup at all.
    @Test func valuesMeaningNoLimitNeedNoCgroup() throws {
        let limits = try ResourceLimits.parse(memory: "0", memorySwap: "-1", cpus: "0", cpuShares: "0", cpusetCPUs: "", pidsLimit: "-1",
                                              ulimits: ["nofile=100:200"], hardLimit: { _ in UInt64.max })
        #expect(!limits.needsCgroup && limits.controllerNeeds.isEmpty)
        #expect(try limits.cgroupFiles(swapAccounting: true).isEmpty)
        #expect(try ResourceLimits.parse(pidsLimit: "0").pidsLimit == nil)
        #expect(try !ResourceLimits.parse().needsCgroup)
    }

    /// The flags' errors, worded as Docker words them where it has them.
    @Test(arguments: [
        (["memory": "x"], "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'"),
        (["memory": "1.2.3m"], "invalid argument \"1.2.3m\" for \"-m, --memory\" flag: strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"),
        (["memory": "5m"], "Minimum memory limit allowed is 6MB"),
        (["memory": "100m", "swap": "x"], "invalid argument \"x\" for \"--memory-swap\" flag: invalid size: 'x'"),
        (["memory": "100m", "swap": "50m"], "Minimum memoryswap limit should be larger than memory limit, see usage"),
        (["swap": "1g"], "You should always set the Memory limit when using Memoryswap limit, see usage"),
        (["cpus": "x"], "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number"),
        (["cpus": "3"], "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        (["cpus": "0.001"], "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        (["cpus": "-1"], "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        (["cpus": "1e-10"], "invalid argument \"1e-10\" for \"--cpus\" flag: value is too precise"),
        (["shares": "x"], "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"),
        (["shares": "-5"], "invalid argument \"-5\" for \"-c, --cpu-shares\" flag: shares are a positive number (1024 is the default)"),
        (["cpuset": "0-x"], "Invalid value 0-x for cpuset cpus"),
        (["cpuset": "3-1"], "Invalid value 3-1 for cpuset cpus"),
        (["cpuset": "0,,1"], "Invalid value 0,,1 for cpuset cpus"),
        (["pids": "x"], "invalid argument \"x\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"),
        (["pids": "99999999999999999999"], "invalid argument \"99999999999999999999\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"99999999999999999999\": value out of range"),
    ])
    func flagErrors(flags: [String: String], expected: String) {
        #expect(message {
            try ResourceLimits.parse(memory: flags["memory"], memorySwap: flags["swap"], cpus: flags["cpus"], cpuShares: flags["shares"],
                                     cpusetCPUs: flags["cpuset"], pidsLimit: flags["pids"], cpuCount: 2)
        } == expected)
    }

    @Test func cpusetLists() {
        #expect(ResourceLimits.cpuList("0-3,5") == [0, 1, 2, 3, 5])
        #expect(ResourceLimits.cpuList("7") == [7])
        #expect(ResourceLimits.cpuList("1-1,0") == [0, 1])
        for bad in ["", "a", "0-", "-1", "1-2-3", "0, 1", "٣"] { #expect(ResourceLimits.cpuList(bad) == nil, "\(bad)") }
    }

    // MARK: --ulimit

    static let unlimited = UInt64.max

    @Test(arguments: [
        ("nofile=1024:2048", "nofile", 7, 1024, 2048),
        ("nofile=1024", "nofile", 7, 1024, 1024),
        ("nproc=100", "nproc", 6, 100, 100),
        ("core=-1", "core", 4, unlimited, unlimited),
        ("memlock=65536:-1", "memlock", 8, 65536, unlimited),
        ("stack=8388608:16777216", "stack", 3, 8_388_608, 16_777_216),
        ("cpu=10", "cpu", 0, 10, 10), ("data=1", "data", 2, 1, 1), ("fsize=1", "fsize", 1, 1, 1), ("locks=1", "locks", 10, 1, 1),
        ("msgqueue=1", "msgqueue", 12, 1, 1), ("nice=10", "nice", 13, 10, 10), ("rss=1", "rss", 5, 1, 1),
        ("rtprio=1", "rtprio", 14, 1, 1), ("rttime=1", "rttime", 15, 1, 1), ("sigpending=1", "sigpending", 11, 1, 1),
    ] as [(String, String, UInt32, UInt64, UInt64)])
    func ulimits(text: String, name: String, resource: UInt32, soft: UInt64, hard: UInt64) throws {
        let limits = try ResourceLimits.parse(ulimits: [text], hardLimit: { _ in UInt64.max })
        #expect(limits.ulimits == [ResourceLimits.Ulimit(name: name, resource: resource, soft: soft, hard: hard)])
        #expect(limits.rlimits == [LaunchPlan.ResourceLimit(resource: resource, soft: soft, hard: hard)])
        #expect(!limits.needsCgroup)
    }

    @Test(arguments: [
        ("nofile", "invalid ulimit argument: nofile"),
        ("foo=1", "invalid ulimit type: foo"),
        ("as=1", "invalid ulimit type: as"),
        ("NOFILE=1", "invalid ulimit type: NOFILE"),
        ("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"),
        ("nofile=x", "strconv.ParseInt: parsing \"x\": invalid syntax"),
        ("nofile=", "strconv.ParseInt: parsing \"\": invalid syntax"),
        ("nofile=1:y", "strconv.ParseInt: parsing \"y\": invalid syntax"),
        ("nofile=2048:1024", "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"),
        ("nofile=-1:1024", "ulimit soft limit must be less than or equal to hard limit: -1 > 1024"),
        ("nofile=-2", "-2 is not a limit: give a number of 0 or more, or -1 for unlimited"),
    ])
    func badUlimits(text: String, reason: String) {
        #expect(message { try ResourceLimits.parse(ulimits: [text], hardLimit: { _ in UInt64.max }) }
            == "invalid argument \"\(text)\" for \"--ulimit\" flag: \(reason)")
    }

    /// A user namespace cannot raise a hard limit: asking for more than the
    /// caller has is an error naming the limit, before anything starts.
    @Test func aHardLimitAboveTheCallersIsAnError() throws {
        let own: (UInt32) -> UInt64 = { $0 == 7 ? 4096 : UInt64.max }
        #expect(message { try ResourceLimits.parse(ulimits: ["nofile=100:5000"], hardLimit: own) }
            == "--ulimit nofile=100:5000: the nofile hard limit 5000 is above your own (4096), and a container cannot raise it: ask for 4096 or less")
        #expect(message { try ResourceLimits.parse(ulimits: ["nofile=-1"], hardLimit: own) }
            == "--ulimit nofile=-1: the nofile hard limit unlimited is above your own (4096), and a container cannot raise it: ask for 4096 or less")
        #expect(try ResourceLimits.parse(ulimits: ["nofile=100:4096", "nproc=-1"], hardLimit: own).ulimits.count == 2)
    }

    /// A later --ulimit of the same name replaces an earlier one, in its place.
    @Test func aLaterUlimitReplacesAnEarlierOne() throws {
        let limits = try ResourceLimits.parse(ulimits: ["nofile=10", "nproc=5", "nofile=20:30"], hardLimit: { _ in UInt64.max })
        #expect(limits.ulimits.map(\.name) == ["nofile", "nproc"])
        #expect(limits.ulimits[0].soft == 20 && limits.ulimits[0].hard == 30)
    }

    /// The caller's own limits, read for real.
    @Test func theCallersHardLimitIsRead() {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(7), &limit)
        #expect(ResourceLimits.callerHardLimit(7) == UInt64(limit.rlim_max))
    }
}
