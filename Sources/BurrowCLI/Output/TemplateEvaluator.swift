import BurrowOCI

/// What `{{.Field}}` gives for a key the data lacks. Docker decodes inspect
/// documents into maps, where Go prints `<no value>`; its list rows are Go
/// structs, where an unknown field is an error.
enum MissingFields {
    case noValue
    case error
}

extension Template {
    func render(_ data: JSONValue, missingFields: MissingFields = .noValue) throws(TemplateError) -> String {
        var evaluator = TemplateEvaluator(missingFields: missingFields, variables: [("$", data)])
        _ = try evaluator.walk(nodes, dot: data)
        return evaluator.output
    }
}

/// Walks the tree over the data with Go's semantics. A value of nil is Go's
/// invalid value, what a key the map lacks gives: it prints `<no value>`,
/// is false, and is nil when passed to a function.
private struct TemplateEvaluator {
    let missingFields: MissingFields
    /// Innermost last; a control's variables go at its `{{end}}`.
    var variables: [(name: String, value: JSONValue?)]
    var output = ""

    /// How a list of nodes ended: `{{break}}` and `{{continue}}` travel up to their `{{range}}`.
    enum Flow {
        case next, breakLoop, continueLoop
    }

    mutating func walk(_ nodes: [TemplateNode], dot: JSONValue) throws(TemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .action(let pipeline):
                let value = try run(pipeline, dot: dot)
                if pipeline.variables.isEmpty { output += GoFormat.text(value) }
            case .ifBlock(let pipeline, let then, let otherwise):
                let scope = variables.count
                defer { variables.removeLast(variables.count - scope) }
                let value = try run(pipeline, dot: dot)
                let flow = try walk(TemplateFunctions.isTrue(value) ? then : otherwise, dot: dot)
                if flow != .next { return flow }
            case .withBlock(let pipeline, let then, let otherwise):
                let scope = variables.count
                defer { variables.removeLast(variables.count - scope) }
                let value = try run(pipeline, dot: dot)
                let flow: Flow
                if let value, TemplateFunctions.isTrue(value) {
                    flow = try walk(then, dot: value)
                } else {
                    flow = try walk(otherwise, dot: dot)
                }
                if flow != .next { return flow }
            case .rangeBlock(let pipeline, let body, let otherwise):
                let flow = try range(pipeline, body: body, otherwise: otherwise, dot: dot)
                if flow != .next { return flow }
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .next
    }

    /// Lists in order, maps by sorted key, an integer n as 0..<n (Go 1.22).
    /// Nil and null are empty: Docker's typed data has nil lists there.
    private mutating func range(_ pipeline: TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode], dot: JSONValue) throws(TemplateError) -> Flow {
        let scope = variables.count
        defer { variables.removeLast(variables.count - scope) }
        let value = try evaluate(pipeline, dot: dot)
        var items: [(key: JSONValue, value: JSONValue)] = []
        switch value {
        case nil, .null?:
            break
        case .array(let elements)?:
            items = elements.enumerated().map { (.number(String($0.offset)), $0.element) }
        case .object?:
            items = GoFormat.sortedMembers(value!).map { (.string($0.0), $0.1) }
        case .number(let text)?:
            guard let count = Int(text), count >= 0 else { throw TemplateError("range can't iterate over \(text)", at: pipeline.offset) }
            guard pipeline.variables.count < 2 else {
                throw TemplateError("range over an integer takes one variable, not two", at: pipeline.offset)
            }
            items = (0..<count).map { (.number(String($0)), .number(String($0))) }
        case let other?:
            throw TemplateError("range can't iterate over \(TemplateFunctions.describe(other))", at: pipeline.offset)
        }
        if items.isEmpty { return try walk(otherwise, dot: dot) }
        for item in items {
            variables.removeLast(variables.count - scope)
            let values = pipeline.variables.count == 2 ? [item.key, item.value] : [item.value]
            for (name, value) in zip(pipeline.variables, values) {
                if pipeline.assigns { assign(name, value) } else { variables.append((name, value)) }
            }
            if try walk(body, dot: item.value) == .breakLoop { break }
        }
        return .next
    }

    /// Evaluates a pipeline and declares or assigns its variables.
    private mutating func run(_ pipeline: TemplatePipeline, dot: JSONValue) throws(TemplateError) -> JSONValue? {
        let value = try evaluate(pipeline, dot: dot)
        for name in pipeline.variables {
            if pipeline.assigns { assign(name, value) } else { variables.append((name, value)) }
        }
        return value
    }

    private mutating func assign(_ name: String, _ value: JSONValue?) {
        if let index = variables.lastIndex(where: { $0.name == name }) { variables[index].value = value }
    }

    private func evaluate(_ pipeline: TemplatePipeline, dot: JSONValue) throws(TemplateError) -> JSONValue? {
        var value: JSONValue? = nil
        for (i, command) in pipeline.commands.enumerated() {
            value = try evaluate(command, dot: dot, piped: i == 0 ? [] : [value])
        }
        return value
    }

    /// `piped` is the previous stage's value, passed as the last argument.
    private func evaluate(_ command: TemplateCommand, dot: JSONValue, piped: [JSONValue?]) throws(TemplateError) -> JSONValue? {
        let first = command.operands[0]
        if case .function(let name) = first.kind {
            return try call(name, Array(command.operands.dropFirst()), piped: piped, dot: dot, offset: first.offset)
        }
        if case .nilLiteral = first.kind { throw TemplateError("nil is not a command", at: first.offset) }
        if command.operands.count > 1 || !piped.isEmpty {
            throw TemplateError("\(first.spelling) is not a function: it takes no arguments", at: first.offset)
        }
        return try evaluate(first, dot: dot)
    }

    private func evaluate(_ operand: TemplateOperand, dot: JSONValue) throws(TemplateError) -> JSONValue? {
        switch operand.kind {
        case .dot:
            return dot
        case .field(let names):
            return try fields(names, of: dot, written: "", offset: operand.offset)
        case .variable(let name, let names):
            guard let variable = variables.last(where: { $0.name == name }) else {
                throw TemplateError("undefined variable \(name)", at: operand.offset)
            }
            return try fields(names, of: variable.value, written: name, offset: operand.offset)
        case .function(let name):
            return try call(name, [], piped: [], dot: dot, offset: operand.offset)
        case .literal(let value):
            return value
        case .nilLiteral:
            return .null
        case .parenthesized(let pipeline, let names):
            return try fields(names, of: try evaluate(pipeline, dot: dot), written: "(...)", offset: operand.offset)
        }
    }

    /// `.A.B` from a value. A missing key and a null map give nil, as a Go
    /// map's missing key and a nil map do.
    private func fields(_ names: [String], of value: JSONValue?, written: String, offset: Int) throws(TemplateError) -> JSONValue? {
        var current = value
        for (i, name) in names.enumerated() {
            switch current {
            case nil, .null?:
                current = nil
            case .object?:
                if let member = current?[name] {
                    current = member
                } else if missingFields == .error {
                    let known = GoFormat.sortedMembers(current!).map { "." + $0.0 }.joined(separator: " ")
                    throw TemplateError("field .\(name) is unknown: use one of \(known)", at: offset)
                } else {
                    current = nil
                }
            case let other?:
                let receiver = written + names[..<i].map { "." + $0 }.joined()
                throw TemplateError("can't evaluate field \(name) of \(receiver.isEmpty ? "." : receiver): it is \(TemplateFunctions.describe(other)), not a map", at: offset)
            }
        }
        return current
    }

    private func call(_ name: String, _ operands: [TemplateOperand], piped: [JSONValue?], dot: JSONValue, offset: Int) throws(TemplateError) -> JSONValue? {
        guard let function = TemplateFunctions.table[name] else { throw TemplateError("function \"\(name)\" is not defined", at: offset) }
        let count = operands.count + piped.count
        if count < function.minimumArguments || count > (function.maximumArguments ?? .max) {
            let wanted = switch function.maximumArguments {
            case nil: "at least \(function.minimumArguments)"
            case function.minimumArguments?: "\(function.minimumArguments)"
            case let maximum?: "\(function.minimumArguments) to \(maximum)"
            }
            throw TemplateError("wrong number of arguments for \(name): want \(wanted), got \(count)", at: offset)
        }
        let arguments = TemplateArguments(count: count, function: name) { (i: Int) throws(TemplateError) -> JSONValue? in
            if i < operands.count { return try evaluate(operands[i], dot: dot) }
            return piped[i - operands.count]
        }
        do throws(TemplateError) {
            return try function.body(arguments)
        } catch {
            throw error.located(at: offset)
        }
    }
}
