import BurrowSystem
import Glibc

/// Runs burrow itself again inside a user namespace with the user's mapping,
/// as root there: the way to create, chown and delete files that belong to
/// subordinate ids (layer unpacking, removal). The environment variable
/// marks the inner run.
public enum UserNamespaceHelper {
    public static let marker = "BURROW_IN_USERNS"

    /// True in the inner run.
    public static var isInside: Bool { (environment(marker) == "1" && getuid() == 0) || UserNamespaceKeeper.joined }

    /// Runs `arguments` (argv without the program) in a new user namespace
    /// and returns the exit code. stdin, stdout and stderr are shared.
    public static func run(_ arguments: [String], mapping: UserNamespaceMapping) throws -> Int32 {
        // A process that joined the standing namespace is root in it
        // already, and may not map another: a mount namespace is enough.
        let joined = UserNamespaceKeeper.joined
        if mapping.needsHelpers && !joined { _ = try HelperPrograms.locate() }
        var plan = LaunchPlan(namespaces: joined ? [.mount] : [.user, .mount])
        var environment: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            if !text.hasPrefix(marker + "=") { environment.append(text) }
            index += 1
        }
        environment.append("\(marker)=1")
        plan.process = LaunchPlan.Process(arguments: [HostSystem.executablePath] + arguments, environment: environment)
        let child = try Launcher.start(plan, mapping: joined ? nil : mapping)
        return try Launcher.wait(child)
    }
}
