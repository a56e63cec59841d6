import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// `run -v`, `--mount`, `--tmpfs` and `--read-only` end to end, as each kind
/// of unprivileged user.
extension Integration {
@Suite struct MountTests {
    /// A directory of the user's own, private as a home directory (BC-29).
    static func hostDirectory(_ runner: Runner, _ name: String) throws -> String {
        let path = "/tmp/burrow-it-\(runner.user.name)-\(name)-\(UUID().uuidString.prefix(6))"
        let made = try runner.sh("mkdir -p '\(path)' && chmod 700 '\(path)' && echo hello > '\(path)/f'")
        precondition(made.code == 0, "\(made)")
        return path
    }

    static func owner(_ path: String) -> (uid: UInt32, gid: UInt32, mode: UInt32)? {
        var st = stat()
        return lstat(path, &st) == 0 ? (st.st_uid, st.st_gid, UInt32(st.st_mode & 0o7777)) : nil
    }

    @Test(arguments: TestUser.all)
    func bindMountsAsDocker(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let dir = try MountTests.hostDirectory(runner, "bind")
        let rw = try runner.burrow("run", "--rm", "-v", "\(dir):/data", "busybox", "sh", "-c", "cat /data/f && echo made > /data/new")
        #expect(rw.code == 0 && rw.out == "hello\n", "\(rw)")
        #expect(MountTests.owner("\(dir)/new")?.uid == user.uid, "root in the container is the user on the host")

        let ro = try runner.burrow("run", "--rm", "-v", "\(dir):/data:ro,z", "busybox", "sh", "-c", "cat /data/f; touch /data/x; grep ' /data ' /proc/self/mountinfo")
        #expect(ro.out.hasPrefix("hello\n") && ro.out.contains(" /data ro,") && ro.err.contains("Read-only file system"), "\(ro)")

        let file = try runner.burrow("run", "--rm", "--mount", "type=bind,src=\(dir)/f,dst=/etc/app/conf,readonly", "busybox", "sh", "-c", "cat /etc/app/conf; test -f /etc/app/conf && echo file")
        #expect(file.lines == ["hello", "file"], "a file's target is made a file: \(file)")

        let created = "\(dir)/made-by-v/sub"
        #expect(try runner.burrow("run", "--rm", "-v", "\(created):/new", "busybox", "true").code == 0)
        #expect(MountTests.owner(created)?.uid == user.uid, "-v creates a missing host directory, as Docker")
        let missing = try runner.burrow("run", "--rm", "--mount", "type=bind,source=\(dir)/absent,target=/x", "busybox", "true")
        #expect(missing.code == 125 && missing.err == "burrow: invalid mount config for type \"bind\": bind source path does not exist: \(dir)/absent\n", "\(missing)")
        let duplicate = try runner.burrow("run", "--rm", "-v", "\(dir):/data", "--tmpfs", "/data", "busybox", "true")
        #expect(duplicate.code == 125 && duplicate.err.contains("Duplicate mount point: /data"), "\(duplicate)")

        // keep-id: what the container's user makes belongs to the caller on the host.
        let keep = try runner.burrow("run", "--rm", "--userns=keep-id", "-v", "\(dir):/work", "-w", "/work", "busybox", "sh", "-c", "id -u; touch by-keep-id; mkdir d-keep")
        #expect(keep.code == 0 && keep.lines == [String(user.uid)], "\(keep)")
        #expect(MountTests.owner("\(dir)/by-keep-id")?.uid == user.uid && MountTests.owner("\(dir)/d-keep")?.gid == user.gid)
        _ = try runner.sh("rm -rf '\(dir)'")
    }

    @Test(arguments: TestUser.all)
    func volumesLiveOnAndAreFilledFromTheImage(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = "mail-\(UUID().uuidString.prefix(6).lowercased())"
        let first = try runner.burrow("run", "--name", "\(name)-c", "-v", "\(name):/var/mail", "python:3.9-slim", "sh", "-c", "stat -c '%u:%g %a' /var/mail; echo kept > /var/mail/f")
        let group = user.kind == .subordinate ? "8" : "0"
        #expect(first.code == 0 && first.out == "0:\(group) 2775\n", "copy-up keeps the image's owner and mode: \(first)")
        let second = try runner.burrow("run", "--rm", "-v", "\(name):/data:ro", "busybox", "sh", "-c", "cat /data/f; touch /data/x")
        #expect(second.out == "kept\n" && second.err.contains("Read-only"), "\(second)")
        let refused = try runner.burrow("volume", "rm", name)
        #expect(refused.code == 125 && refused.err.contains("in use by container \(name)-c"), "\(refused)")
        #expect(try runner.burrow("rm", "\(name)-c").code == 0)
        #expect(try runner.burrow("volume", "rm", name).code == 0)

        // Anonymous volumes go with a --rm container, and with rm -v.
        let before = try runner.burrow("volume", "ls", "-q").lines
        #expect(try runner.burrow("run", "--rm", "-v", "/scratch", "busybox", "sh", "-c", "touch /scratch/f; chown 1:1 /scratch/f 2>/dev/null; true").code == 0)
        #expect(try runner.burrow("run", "--name", "\(name)-anon", "--mount", "type=volume,dst=/scratch", "busybox", "true").code == 0)
        #expect(try runner.burrow("volume", "ls", "-q").lines.count == before.count + 1)
        #expect(try runner.burrow("rm", "-v", "\(name)-anon").code == 0)
        #expect(try runner.burrow("volume", "ls", "-q").lines == before)

        let nocopy = try runner.burrow("run", "--rm", "--mount", "type=volume,src=\(name)-empty,dst=/etc,volume-nocopy", "busybox", "sh", "-c", "ls /etc")
        #expect(nocopy.lines == ["hostname", "hosts", "resolv.conf"], "nothing copied, the container's own /etc files on top: \(nocopy)")
        #expect(try runner.burrow("volume", "rm", "\(name)-empty").code == 0)
    }

    @Test(arguments: TestUser.all)
    func tmpfsAndReadOnlyRoot(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let tmpfs = try runner.burrow("run", "--rm", "--tmpfs", "/run/x:size=1m,mode=1770", "busybox", "sh", "-c",
                                      "grep ' /run/x ' /proc/self/mountinfo; stat -c %a /run/x; head -c 2000000 /dev/zero > /run/x/big; stat -c %s /run/x/big")
        #expect(tmpfs.out.contains("rw,nosuid,nodev,noexec") && tmpfs.out.contains("size=1024k") && tmpfs.lines.dropLast().last == "1770", "\(tmpfs)")
        #expect((Int(tmpfs.lines.last ?? "") ?? .max) <= 1 << 20, "the size limit holds: \(tmpfs)")

        // BC-24, Docker's rule: nothing writable but /dev and the container's own mounts.
        let script = """
        touch /tmp/a 2>/dev/null && echo "/tmp writable"
        touch /dev/shm/c && echo "shm ok"
        touch /dev/mqueue 2>/dev/null; touch /dev/x && echo "dev ok"
        echo x >> /etc/resolv.conf 2>/dev/null && echo "resolv.conf writable"
        echo x >> /etc/hosts 2>/dev/null && echo "hosts writable"
        awk '$5 == "/" { split($6, o, ","); print o[1] }' /proc/self/mountinfo
        """
        let readOnly = try runner.burrow("run", "--rm", "--read-only", "busybox", "sh", "-c", script)
        #expect(readOnly.code == 0 && readOnly.lines == ["shm ok", "dev ok", "ro"], "\(readOnly)")
        let scratch = try runner.burrow("run", "--rm", "--read-only", "--tmpfs", "/tmp", "-w", "/work/dir", "busybox", "sh", "-c", "touch /tmp/a && pwd")
        #expect(scratch.code == 0 && scratch.out == "/work/dir\n", "\(scratch)")
        let vfs = try runner.burrow("--storage-driver", "vfs", "run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x")
        #expect(vfs.code == 1 && vfs.err.contains("Read-only file system"), "\(vfs)")
    }

    /// A symlink planted in the image never leads a mount out of the root.
    @Test(arguments: TestUser.all)
    func symlinksInTheImageStayInside(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "planted")
        let layer = try Fixtures.pipe([], through: "/bin/tar", ["-xOf", "\(Runner.images)/busybox.docker.tar", "\(ImageTests.busyboxLayer.dropFirst(7))/layer.tar"])
        let busybox = try Fixtures.pipe(layer, through: "/bin/tar", ["-xOf", "-", "bin/busybox"])
        let marker = "burrow-it-planted-\(UUID().uuidString.prefix(6))"
        var tar = TarBuilder()
        tar.add("bin/busybox", .bytes(busybox), mode: 0o755)
        tar.add("bin/sh", .symlink("/bin/busybox"))
        tar.add("tmp/", .directory, mode: 0o1777)
        tar.add("absolute", .symlink("/tmp/\(marker)"))
        tar.add("climbing", .symlink("../../../../../../tmp/\(marker)-up"))
        let archive = ImageTests.write(tar.finished(), name: "planted.tar")
        #expect(try runner.burrow("import", archive, "localhost/planted").code == 0)
        let host = Fixtures.temporaryDirectory("burrow-it-archive")
        chmod(host, 0o777)
        let run = try runner.burrow("run", "--rm", "-v", "\(host):/absolute", "--tmpfs", "/climbing", "localhost/planted", "/bin/busybox", "sh", "-c",
                                    "/bin/busybox touch /absolute/through && /bin/busybox ls /tmp")
        #expect(run.code == 0 && run.lines.sorted() == ["\(marker)", "\(marker)-up"].sorted(), "both links resolved inside the root: \(run)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)") && !FileManager.default.fileExists(atPath: "/tmp/\(marker)-up"))
        #expect(FileManager.default.fileExists(atPath: "\(host)/through"))
    }

    @Test(arguments: TestUser.all)
    func dryRunShowsTheMounts(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let plan = try runner.burrow("run", "--dry-run", "--read-only", "--tmpfs", "/tmp", "-v", "/etc:/host-etc:ro", "busybox", "true")
        #expect(plan.code == 0, "\(plan)")
        let lines = plan.lines
        func index(_ text: String) -> Int { lines.firstIndex { $0.contains(text) } ?? -1 }
        #expect(index("bind /etc on /host-etc read-only") > index("bind /etc/resolv.conf"))
        #expect(index("mount tmpfs on /tmp") > 0 && index("make /etc/hosts read-only") > 0)
        #expect(index("make the root filesystem read-only") == index("pivot_root") + 1)
    }
}
}
