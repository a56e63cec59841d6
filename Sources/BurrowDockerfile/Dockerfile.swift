/// A parsed Dockerfile: the ARGs before the first FROM, and the stages.
public struct Dockerfile: Sendable, Equatable {
    /// Parser directives (`# syntax=`, `# escape=`, `# check=`), lowercased keys.
    public var directives: [String: String]
    /// ARG instructions before the first FROM: usable in FROM lines only,
    /// unless a stage declares them again.
    public var globalArguments: [Instruction]
    public var stages: [Stage]

    public init(directives: [String: String], globalArguments: [Instruction], stages: [Stage]) {
        self.directives = directives
        self.globalArguments = globalArguments
        self.stages = stages
    }

    /// A stage by its `AS` name (case-insensitive, as BuildKit) or its index.
    public func stageIndex(named name: String) -> Int? {
        if let index = stages.firstIndex(where: { $0.name?.lowercased() == name.lowercased() }) { return index }
        if let number = Int(name), number >= 0, number < stages.count, !name.hasPrefix("+") { return number }
        return nil
    }
}

public struct Stage: Sendable, Equatable {
    public var index: Int
    /// The FROM instruction.
    public var from: Instruction
    public var name: String?
    /// The base, unexpanded: an image reference, `scratch`, or an earlier stage's name.
    public var base: String
    public var instructions: [Instruction]

    public init(index: Int, from: Instruction, name: String?, base: String, instructions: [Instruction]) {
        self.index = index
        self.from = from
        self.name = name
        self.base = base
        self.instructions = instructions
    }
}
