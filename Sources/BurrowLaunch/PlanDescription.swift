/// A launch plan as text, for `burrow run --dry-run` and bug reports.
public enum PlanDescription {
    public static func text(_ plan: LaunchPlan, mapping: UserNamespaceMapping?) -> String {
        var lines: [String] = []
        let order: [LaunchPlan.Namespace] = [.user, .mount, .pid, .uts, .ipc, .network, .cgroup]
        lines.append("namespaces: " + order.filter(plan.namespaces.contains).map(\.rawValue).joined(separator: " ")
                     + (plan.namespaces.contains(.network) ? " (loopback up)" : ""))
        if let mapping {
            lines.append("uid map: " + mapping.uids.map(\.description).joined(separator: ", "))
            lines.append("gid map: " + mapping.gids.map(\.description).joined(separator: ", "))
        }
        for (index, step) in plan.steps.enumerated() {
            lines.append("\(index + 1). \(step.label)" + detail(step.operation))
        }
        if let process = plan.process {
            if let user = process.user { lines.append("user: \(user.uid):\(user.gid)" + (process.groups.map { " groups \($0)" } ?? "")) }
            if let capabilities = process.capabilities {
                lines.append("capabilities: bounding 0x\(String(capabilities.bounding, radix: 16)) effective 0x\(String(capabilities.effective, radix: 16))")
            }
            lines.append("working directory: \(process.workingDirectory ?? "(unchanged)")")
            lines.append("environment: " + process.environment.joined(separator: " "))
            lines.append("command: " + process.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    private static func detail(_ operation: LaunchPlan.Operation) -> String {
        switch operation {
        case let .mount(source, target, type, data, _, _, _, _, _, _):
            var parts: [String] = []
            if let type { parts.append("type \(type)") }
            if let source, source != type { parts.append("from \(source)") }
            if let data { parts.append("options \(data)") }
            return parts.isEmpty || target.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
        default:
            return ""
        }
    }
}
