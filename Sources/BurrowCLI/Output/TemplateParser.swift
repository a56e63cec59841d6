import BurrowOCI

extension Template {
    init(parsing source: String) throws(TemplateError) {
        var parser = TemplateParser(pieces: try TemplateLexer.pieces(of: source))
        self.init(source: source, nodes: try parser.parse())
    }
}

/// Pieces → tree, checking what Go checks at parse time: every function
/// exists, every variable is declared, `{{break}}` is inside `{{range}}`,
/// every `{{if}}`, `{{range}}` and `{{with}}` has its `{{end}}`.
private struct TemplateParser {
    private let pieces: [TemplatePiece]
    private var next = 0
    private var variables = ["$"]
    private var rangeDepth = 0

    init(pieces: [TemplatePiece]) { self.pieces = pieces }

    /// What ended a list of nodes.
    private enum Stop {
        case end(offset: Int)
        case otherwise(rest: ArraySlice<TemplateToken>, offset: Int)
        case endOfTemplate
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        let (nodes, stop) = try list()
        switch stop {
        case .endOfTemplate: return nodes
        case .end(let offset): throw TemplateError("unexpected {{end}}", at: offset)
        case .otherwise(_, let offset): throw TemplateError("unexpected {{else}}", at: offset)
        }
    }

    private mutating func list() throws(TemplateError) -> ([TemplateNode], Stop) {
        var nodes: [TemplateNode] = []
        while next < pieces.count {
            let piece = pieces[next]
            next += 1
            switch piece {
            case .text(let text):
                nodes.append(.text(text))
            case .action(let tokens, let offset):
                guard let first = tokens.first else { throw TemplateError("empty action: put a value between {{ and }}", at: offset) }
                guard case .identifier(let word) = first.kind else {
                    nodes.append(.action(try pipeline(tokens[...], context: nil)))
                    continue
                }
                let rest = tokens.dropFirst()
                switch word {
                case "end":
                    try expectNothing(after: first, in: rest)
                    return (nodes, .end(offset: offset))
                case "else":
                    return (nodes, .otherwise(rest: rest, offset: offset))
                case "if", "with", "range":
                    nodes.append(try control(word, rest, offset: offset))
                case "break", "continue":
                    try expectNothing(after: first, in: rest)
                    guard rangeDepth > 0 else { throw TemplateError("{{\(word)}} outside {{range}}", at: offset) }
                    nodes.append(word == "break" ? .breakLoop : .continueLoop)
                case "define", "template", "block":
                    throw TemplateError("{{\(word)}} is not supported", at: offset)
                default:
                    nodes.append(.action(try pipeline(tokens[...], context: nil)))
                }
            }
        }
        return (nodes, .endOfTemplate)
    }

    private func expectNothing(after keyword: TemplateToken, in rest: ArraySlice<TemplateToken>) throws(TemplateError) {
        if let extra = rest.first {
            throw TemplateError("unexpected \(extra.spelling) in {{\(keyword.spelling)}}", at: extra.offset)
        }
    }

    /// `{{if}}`, `{{with}}` or `{{range}}` up to its `{{end}}`; `{{else if}}`
    /// and `{{else with}}` nest a control that shares the same `{{end}}`.
    private mutating func control(_ keyword: String, _ tokens: ArraySlice<TemplateToken>, offset: Int) throws(TemplateError) -> TemplateNode {
        let scope = variables.count
        defer { variables.removeLast(variables.count - scope) }
        guard !tokens.isEmpty else { throw TemplateError("missing value for {{\(keyword)}}", at: offset) }
        let condition = try pipeline(tokens, context: keyword)
        if keyword == "range" { rangeDepth += 1 }
        let (body, stop) = try list()
        if keyword == "range" { rangeDepth -= 1 }
        var otherwise: [TemplateNode] = []
        switch stop {
        case .end:
            break
        case .endOfTemplate:
            throw TemplateError("{{\(keyword)}} has no {{end}}", at: offset)
        case .otherwise(let rest, let elseOffset):
            if let chained = rest.first, chained.kind == .identifier(keyword), keyword != "range" {
                otherwise = [try control(keyword, rest.dropFirst(), offset: elseOffset)]
            } else if let extra = rest.first {
                throw TemplateError("unexpected \(extra.spelling) after {{else}}", at: extra.offset)
            } else {
                variables.removeLast(variables.count - scope)
                let (elseBody, elseStop) = try list()
                switch elseStop {
                case .end: break
                case .endOfTemplate: throw TemplateError("{{\(keyword)}} has no {{end}}", at: offset)
                case .otherwise(_, let extraOffset): throw TemplateError("{{\(keyword)}} has a second {{else}}", at: extraOffset)
                }
                otherwise = elseBody
            }
        }
        switch keyword {
        case "if": return .ifBlock(condition, then: body, otherwise: otherwise)
        case "with": return .withBlock(condition, then: body, otherwise: otherwise)
        default: return .rangeBlock(condition, body: body, otherwise: otherwise)
        }
    }

    /// A whole action's pipeline, with its optional declaration. `context` is
    /// the control keyword, nil for a plain action.
    private mutating func pipeline(_ tokens: ArraySlice<TemplateToken>, context: String?) throws(TemplateError) -> TemplatePipeline {
        var cursor = TokenCursor(tokens: tokens)
        var declared: [String] = []
        var assigns = false
        if let names = declaration(tokens) {
            declared = names
            cursor.skip(names.count * 2 - 1)
            assigns = cursor.take()?.kind == .assign
            if names.count > 1 && context != "range" {
                throw TemplateError("too many variables in a declaration: only {{range}} takes two", at: tokens.first!.offset)
            }
            if assigns {
                for name in names where !variables.contains(name) {
                    throw TemplateError("undefined variable \(name)", at: tokens.first!.offset)
                }
            }
        }
        let offset = cursor.peek()?.offset ?? tokens.first!.offset
        var result = try commands(&cursor, offset: offset)
        if let extra = cursor.peek() { throw TemplateError("unexpected \(extra.spelling) in an action", at: extra.offset) }
        result.variables = declared
        result.assigns = assigns
        if !assigns { variables += declared }
        return result
    }

    /// `$x :=`, `$k, $v :=`, `$x =`: the variable names, or nil.
    private func declaration(_ tokens: ArraySlice<TemplateToken>) -> [String]? {
        let kinds = tokens.prefix(4).map(\.kind)
        guard case .variable(let first)? = kinds.first else { return nil }
        if kinds.count > 1, kinds[1] == .declare || kinds[1] == .assign { return [first] }
        if kinds.count > 3, kinds[1] == .comma, case .variable(let second) = kinds[2], kinds[3] == .declare || kinds[3] == .assign {
            return [first, second]
        }
        return nil
    }

    /// Commands separated by `|`, up to the end of the tokens or a `)`.
    private func commands(_ cursor: inout TokenCursor, offset: Int) throws(TemplateError) -> TemplatePipeline {
        var commands: [TemplateCommand] = []
        var stageOffset = offset
        while true {
            var operands: [TemplateOperand] = []
            while let token = cursor.peek(), token.kind != .pipe, token.kind != .rightParen {
                if !operands.isEmpty && !token.spaced {
                    throw TemplateError("missing space between \(operands.last!.spelling) and \(token.spelling)", at: token.offset)
                }
                operands.append(try operand(&cursor))
            }
            guard let first = operands.first else {
                throw TemplateError("missing command" + (commands.isEmpty ? "" : " after |"), at: cursor.peek()?.offset ?? stageOffset)
            }
            if !commands.isEmpty {
                switch first.kind {
                case .dot, .literal, .nilLiteral:
                    throw TemplateError("\(first.spelling) cannot take the value piped into it: start each stage after | with a function", at: first.offset)
                default: break
                }
            }
            commands.append(TemplateCommand(operands: operands))
            guard let pipe = cursor.peek(), pipe.kind == .pipe else { break }
            stageOffset = pipe.offset
            cursor.skip(1)
        }
        return TemplatePipeline(commands: commands, offset: offset)
    }

    private func operand(_ cursor: inout TokenCursor) throws(TemplateError) -> TemplateOperand {
        let token = cursor.take()!
        let kind: TemplateOperand.Kind
        switch token.kind {
        case .dot:
            kind = .dot
        case .field(let name):
            kind = .field([name] + fields(&cursor))
        case .variable(let name):
            guard variables.contains(name) else { throw TemplateError("undefined variable \(name)", at: token.offset) }
            kind = .variable(name, fields: fields(&cursor))
        case .string(let text):
            kind = .literal(.string(text))
        case .number(let text):
            kind = .literal(.number(text))
        case .identifier("true"), .identifier("false"):
            kind = .literal(.bool(token.kind == .identifier("true")))
        case .identifier("nil"):
            kind = .nilLiteral
        case .identifier(let name):
            guard TemplateFunctions.table[name] != nil else {
                if TemplateParser.keywords.contains(name) { throw TemplateError("unexpected {{\(name)}} inside an action", at: token.offset) }
                let known = TemplateFunctions.table.keys.sorted().joined(separator: ", ")
                throw TemplateError("function \"\(name)\" is not defined: use one of \(known)", at: token.offset)
            }
            kind = .function(name)
        case .leftParen:
            let inner = try commands(&cursor, offset: token.offset)
            guard cursor.take()?.kind == .rightParen else { throw TemplateError("unclosed left parenthesis", at: token.offset) }
            kind = .parenthesized(inner, fields: fields(&cursor))
        case .rightParen, .pipe, .comma, .declare, .assign:
            throw TemplateError("unexpected \(token.spelling) in an operand", at: token.offset)
        }
        if let after = cursor.peek(), case .field = after.kind, !after.spaced {
            throw TemplateError("unexpected \(after.spelling) after \(token.spelling): only fields, variables and (...) have fields", at: after.offset)
        }
        return TemplateOperand(kind: kind, offset: token.offset)
    }

    /// `.B.C` written right after an operand.
    private func fields(_ cursor: inout TokenCursor) -> [String] {
        var names: [String] = []
        while let token = cursor.peek(), case .field(let name) = token.kind, !token.spaced {
            names.append(name)
            cursor.skip(1)
        }
        return names
    }

    private static let keywords: Set<String> = ["if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"]
}

private struct TokenCursor {
    let tokens: ArraySlice<TemplateToken>
    var index: Int

    init(tokens: ArraySlice<TemplateToken>) {
        self.tokens = tokens
        self.index = tokens.startIndex
    }

    func peek() -> TemplateToken? { index < tokens.endIndex ? tokens[index] : nil }

    mutating func take() -> TemplateToken? {
        defer { if index < tokens.endIndex { index += 1 } }
        return peek()
    }

    mutating func skip(_ count: Int) { index = min(index + count, tokens.endIndex) }
}
