import BurrowStore

/// `docker inspect`'s JSON for a container, the parts burrow knows.
struct ContainerInspection: Encodable {
    let record: ContainerRecord
    let layout: StoreLayout

    enum Keys: String, CodingKey { case Id, Created, Path, Args, State, Image, Name, Driver }
    enum StateKeys: String, CodingKey { case Status, Running, Pid, ExitCode, FinishedAt }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(record.id, forKey: .Id)
        try c.encode(record.created, forKey: .Created)
        try c.encode(record.command.first ?? "", forKey: .Path)
        try c.encode(Array(record.command.dropFirst()), forKey: .Args)
        var s = c.nestedContainer(keyedBy: StateKeys.self, forKey: .State)
        try s.encode(record.state.rawValue, forKey: .Status)
        try s.encode(record.state == .running, forKey: .Running)
        try s.encode(record.pid ?? 0, forKey: .Pid)
        try s.encode(record.exitCode ?? 0, forKey: .ExitCode)
        try s.encode(record.finished ?? "0001-01-01T00:00:00Z", forKey: .FinishedAt)
        try c.encode(record.imageID.description, forKey: .Image)
        try c.encode("/" + record.name, forKey: .Name)
        try c.encode(record.driver, forKey: .Driver)
    }
}
