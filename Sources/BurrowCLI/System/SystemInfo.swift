import BurrowLaunch
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

enum SystemInfo: Command {
    static let spec = CommandSpec("info", summary: "Show what the kernel allows, the user's id ranges, and the store", options: [
        OptionSpec("format", short: "f", value: "FORMAT", help: "json, the default text, or a template such as '{{.host.kernel}}'"),
    ], maximumPositionals: 0)

    struct Report: Encodable {
        var host: [String: String] = [:]
        var user: [String: String] = [:]
        var userNamespaces: [String: String] = [:]
        var storage: [String: String] = [:]
        var fuse: [String: String] = [:]
        var cgroups: [String: String] = [:]
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let identity = context.identity
        var sections: [(String, [(String, String)])] = []

        let osName = (try? FileSystem.readText("/etc/os-release"))?.split(separator: "\n")
            .first { $0.hasPrefix("PRETTY_NAME=") }.map { $0.dropFirst(12).trimmingCharacters(in: .whitespacesAndNewlines).replacingQuotes() } ?? "unknown"
        sections.append(("host", [("kernel", HostSystem.kernelRelease), ("os", osName), ("platform", Platform.host.description),
                                  ("hostname", HostSystem.hostname)]))

        func ranges(_ list: [SubordinateRange]) -> String {
            list.isEmpty ? "none" : list.map { "\($0.start)-\(UInt64($0.start) + UInt64($0.count) - 1) (\($0.count) ids)" }.joined(separator: ", ")
        }
        sections.append(("user", [("name", identity.user.name), ("uid", String(identity.user.uid)), ("gid", String(identity.user.gid)),
                                  ("subuid ranges", ranges(identity.subUIDs)), ("subgid ranges", ranges(identity.subGIDs))]))

        var namespaces: [(String, String)] = []
        let maxNamespaces = HostSystem.readSetting("/proc/sys/user/max_user_namespaces") ?? "unknown"
        namespaces.append(("user.max_user_namespaces", maxNamespaces))
        if let clone = HostSystem.readSetting("/proc/sys/kernel/unprivileged_userns_clone") {
            namespaces.append(("kernel.unprivileged_userns_clone", clone))
        }
        if let apparmor = HostSystem.readSetting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") {
            namespaces.append(("kernel.apparmor_restrict_unprivileged_userns", apparmor))
        }
        do {
            let mapping = try identity.mapping(.rootless)
            namespaces.append(("mode", mapping.needsHelpers ? "subordinate ids (root and \(mapping.uids.dropFirst().reduce(0) { $0 + Int($1.count) }) more ids inside)" : "single id (only root inside; no subordinate ids)"))
            namespaces.append(("uid map", mapping.uids.map(\.description).joined(separator: ", ")))
            namespaces.append(("gid map", mapping.gids.map(\.description).joined(separator: ", ")))
            if mapping.needsHelpers {
                let runtime = UserNamespaceKeeper.runtimeDirectory(uid: identity.user.uid)
                let keeper = UserNamespaceKeeper.running(mapping: mapping, runtimeDirectory: runtime)
                namespaces.append(("standing namespace", keeper.map { "held by burrow __keeper, pid \($0)" }
                                    ?? "none yet (the next run makes one, with newuidmap)"))
            }
        } catch {
            namespaces.append(("mode", "unusable: \(error)"))
        }
        for helper in ["newuidmap", "newgidmap"] {
            if let path = Subprocess.find(helper) {
                var st = stat()
                let setuid = stat(path, &st) == 0 && st.st_mode & S_ISUID != 0 && st.st_uid == 0
                namespaces.append((helper, path + (setuid ? " (setuid root)" : " (not setuid root: it cannot map subordinate ids)")))
            } else {
                namespaces.append((helper, "not found (install the uidmap package)"))
            }
        }

        var storage: [(String, String)] = [("root", context.rootPath)]
        do {
            let store = try context.store()
            let probe = StorageProbe.current(store: store)
            storage.append(("filesystem", probe.filesystem))
            namespaces.insert(("available", probe.overlayDetail.contains("could not be tried") ? "no: \(probe.overlayDetail)" : "yes"), at: 0)
            storage.append(("overlay in a user namespace", probe.overlay ? "yes" : "no"))
            if let choice = try? probe.choose(requested: context.storageDriver) {
                storage.append(("driver", choice.driver.rawValue))
                storage.append(("driver reason", choice.reason))
            }
            storage.append(("whiteouts", probe.whiteoutDetail))
            storage.append(("images", String((try? store.images().count) ?? 0)))
            storage.append(("containers", String((try? store.containers().count) ?? 0)))
        } catch {
            storage.append(("error", "\(error)"))
        }
        sections.append(("user namespaces", namespaces))
        sections.append(("storage", storage))

        var fuse: [(String, String)] = []
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            fuse.append(("/dev/fuse", "usable"))
        } else {
            fuse.append(("/dev/fuse", FileSystem.exists("/dev/fuse") ? "present, not usable: \(String(cString: strerror(errno)))" : "missing"))
        }
        fuse.append(("fusermount3", Subprocess.find("fusermount3") ?? "not found"))
        sections.append(("fuse", fuse))
        sections.append(("network", NetworkReport.lines()))
        sections.append(("cgroups", CgroupReport.lines()))
        sections.append(("host ca", HostCAReport.lines()))

        switch OutputFormat(arguments.value("format")) {
        case .json:
            var object: [String] = []
            for (name, lines) in sections {
                let body = try lines.map { "\(try JSONOutput.encode($0.0, pretty: false)):\(try JSONOutput.encode($0.1, pretty: false))" }.joined(separator: ",")
                object.append("\(try JSONOutput.encode(name, pretty: false)):{\(body)}")
            }
            context.out("{" + object.joined(separator: ",") + "}")
        case .template(let template):
            let document = JSONValue.object(sections.map { name, lines in (name, .object(lines.map { ($0.0, .string($0.1)) })) })
            context.out(try OutputFormat.fill(template, document))
        case .table:
            for (name, lines) in sections {
                context.out("\(name):")
                for (key, value) in lines { context.out("  \(key): \(value)") }
            }
        }
        return 0
    }
}

/// --host-ca: the defaults as BURROW_HOST_CA sets them, and the bundle lent.
enum HostCAReport {
    static func lines() -> [(String, String)] {
        func setting(_ fallback: Bool) -> String {
            guard let value = try? HostCA.enabled(flag: nil, fallback: fallback) else { return "invalid \(HostCA.variable)" }
            return value ? "on" : "off"
        }
        let config = try? UserConfig.load()
        let source = environment(HostCA.variable).map { "\(HostCA.variable)=\($0)" } ?? config?.setting("host-ca").map { "host-ca in \($0.place)" } ?? "default"
        return [("build", "\(setting(true)) (\(source))"), ("run", "\(setting(false)) (\(source))"),
                ("host bundle", HostCA.hostBundle() ?? "none found (looked at \(HostCA.hostBundles.joined(separator: ", ")))"),
                ("bound at", HostCA.targets.joined(separator: ", ") + ", and SSL_CERT_FILE"),
                ("settings file", config.map { FileSystem.exists($0.path) ? $0.path : "\($0.path) (none)" } ?? "unreadable: see 'burrow run'")]
    }
}

extension String {
    func replacingQuotes() -> String { filter { $0 != "\"" } }
}

/// Which cgroup version the host runs, what this user may control, and
/// which limit flags of `run` would work from here (the same check `run`
/// makes, so the two never disagree).
enum CgroupReport {
    static func lines() -> [(String, String)] {
        let delegation = CgroupDelegation.detect(CgroupHost.current())
        let version: String
        switch delegation.hierarchy {
        case .unified: version = "v2"
        case .hybrid: version = "v1 with a v2 hierarchy (hybrid)"
        case .legacy: version = "v1"
        case .none: version = "none"
        }
        func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: " ") }
        var lines: [(String, String)] = [("version", version)]
        if let mount = delegation.mount { lines.append(("v2 mount", mount)) }
        if let directory = delegation.directory {
            lines.append(("own cgroup", directory))
            lines.append(("writable by you", delegation.writable ? "yes" : "no"))
            lines.append(("delegated controllers", list(delegation.available)))
            lines.append(("enabled below it", list(delegation.enabled)))
        }
        if !delegation.legacyControllers.isEmpty { lines.append(("controllers on v1", list(delegation.legacyControllers))) }
        let families: [(String, [ResourceLimits.ControllerNeed])] = [
            ("--memory, --memory-swap", [.init(flag: "--memory", controller: "memory")]),
            ("--cpus, --cpu-shares", [.init(flag: "--cpus", controller: "cpu")]),
            ("--cpuset-cpus", [.init(flag: "--cpuset-cpus", controller: "cpuset")]),
            ("--pids-limit", [.init(flag: "--pids-limit", controller: "pids")]),
        ]
        for (flags, needs) in families {
            lines.append((flags, delegation.problem(for: needs).map { "no: \($0)" } ?? "yes"))
        }
        lines.append(("--ulimit", "yes (rlimits need no cgroup)"))
        return lines
    }
}
