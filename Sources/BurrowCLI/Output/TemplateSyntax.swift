import BurrowOCI

/// A parsed Go text/template, the language of Docker's `--format`. Parsing
/// is in TemplateParser.swift, execution in TemplateEvaluator.swift.
struct Template {
    let source: String
    let nodes: [TemplateNode]
}

indirect enum TemplateNode {
    case text(String)
    /// `{{PIPELINE}}`: prints its value, unless it declares or assigns a variable.
    case action(TemplatePipeline)
    case ifBlock(TemplatePipeline, then: [TemplateNode], otherwise: [TemplateNode])
    case withBlock(TemplatePipeline, then: [TemplateNode], otherwise: [TemplateNode])
    case rangeBlock(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode])
    case breakLoop
    case continueLoop
}

/// `$k, $v := .A | f x | g`: each command's value is passed to the next as
/// its last argument.
struct TemplatePipeline {
    var variables: [String] = []
    /// `$x = ...` sets a variable declared earlier; `$x := ...` declares one.
    var assigns = false
    var commands: [TemplateCommand]
    let offset: Int
}

/// One stage of a pipeline: a function and its arguments, or a single operand.
struct TemplateCommand {
    var operands: [TemplateOperand]
    var offset: Int { operands[0].offset }
}

struct TemplateOperand {
    enum Kind {
        case dot
        /// `.A.B` on dot.
        case field([String])
        /// `$`, `$x`, `$x.A.B`.
        case variable(String, fields: [String])
        case function(String)
        case literal(JSONValue)
        case nilLiteral
        /// `(PIPELINE).A.B`.
        case parenthesized(TemplatePipeline, fields: [String])
    }

    let kind: Kind
    let offset: Int

    /// How the operand was written, for error messages.
    var spelling: String {
        switch kind {
        case .dot: return "."
        case .field(let names): return names.map { "." + $0 }.joined()
        case .variable(let name, let names): return name + names.map { "." + $0 }.joined()
        case .function(let name): return name
        case .literal(let value): return value.serialized
        case .nilLiteral: return "nil"
        case .parenthesized(_, let names): return "(...)" + names.map { "." + $0 }.joined()
        }
    }
}
