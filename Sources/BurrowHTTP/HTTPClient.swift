import Glibc

/// A request as registries need them.
public struct HTTPRequest: Sendable {
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of a file from `offset`, sent as they are read.
        case file(fd: Int32, offset: Int64, length: Int64)
    }

    public var method: String
    public var url: HTTPURL
    public var headers: [(String, String)]
    public var body: Body

    public init(_ method: String, _ url: HTTPURL, headers: [(String, String)] = [], body: Body = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    /// The body, unless it went to a sink.
    public let body: [UInt8]
    /// Where the answer came from, after redirects.
    public let url: HTTPURL

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    public func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.0.lowercased() == lower }.map(\.1)
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// HTTP/1.1 over HTTPConnection, one connection per request (a registry
/// pull opens a handful; keep-alive is not worth its state). Redirects are
/// followed for GET and HEAD, and Authorization is dropped when one leaves
/// the host, as blob stores hand out signed URLs of their own.
public struct HTTPClient: Sendable {
    public var trust: TLSTrust
    public var timeout: Int
    public var userAgent: String

    public init(trust: TLSTrust, timeout: Int = 60, userAgent: String = "burrow") {
        self.trust = trust
        self.timeout = timeout
        self.userAgent = userAgent
    }

    /// Sends the request. A 2xx body goes to `sink` when there is one,
    /// every other body is kept (at most `limit` bytes) for the caller.
    /// `onHead` sees a 2xx answer's status and headers before its body goes to `sink`.
    public func perform(_ request: HTTPRequest, limit: Int = 8 << 20, onHead: ((HTTPResponse) throws -> Void)? = nil,
                        sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> HTTPResponse {
        var current = request
        for _ in 0..<6 {
            let response = try once(current, limit: limit, onHead: onHead, sink: sink)
            guard [301, 302, 303, 307, 308].contains(response.status), current.method == "GET" || current.method == "HEAD",
                  let location = response.header("location"), let next = current.url.resolving(location) else {
                return response
            }
            if next.host != current.url.host || next.port != current.url.port {
                current.headers.removeAll { $0.0.lowercased() == "authorization" }
            }
            current.url = next
        }
        throw HTTPError(.protocolError, "\(request.url.authority) redirected too many times")
    }

    private func once(_ request: HTTPRequest, limit: Int, onHead: ((HTTPResponse) throws -> Void)?,
                      sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws -> HTTPResponse {
        let connection = try HTTPConnection(to: request.url, trust: trust, timeout: timeout)
        defer { connection.close() }
        let target = connection.proxied != nil ? request.url.description : request.url.target
        var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(request.url.authority)\r\nUser-Agent: \(userAgent)\r\nConnection: close\r\n"
        if let authorization = connection.proxied?.authorization { head += "Proxy-Authorization: \(authorization)\r\n" }
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        switch request.body {
        case .none:
            if ["POST", "PUT", "PATCH"].contains(request.method) { head += "Content-Length: 0\r\n" }
        case .bytes(let bytes): head += "Content-Length: \(bytes.count)\r\n"
        case .file(_, _, let length): head += "Content-Length: \(length)\r\n"
        }
        head += "\r\n"
        try connection.write(Array(head.utf8))
        switch request.body {
        case .none: break
        case .bytes(let bytes): try connection.write(bytes)
        case .file(let fd, let offset, let length): try sendFile(fd, offset: offset, length: length, on: connection)
        }

        guard let statusLine = try connection.readLine() else {
            throw HTTPError(.protocolError, "\(request.url.authority) closed the connection without answering")
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPError(.protocolError, "\(request.url.authority) did not answer in HTTP (\"\(statusLine.prefix(40))\")")
        }
        var headers: [(String, String)] = []
        while let line = try connection.readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces()))
            if headers.count > 500 { throw HTTPError(.protocolError, "\(request.url.authority) sent too many headers") }
        }
        let response = HTTPResponse(status: status, headers: headers, body: [], url: request.url)

        var body: [UInt8] = []
        let toSink = sink != nil && response.isSuccess
        if toSink, let onHead { try onHead(response) }
        let deliver: (UnsafeRawBufferPointer) throws -> Void = { chunk in
            if toSink { try sink!(chunk); return }
            guard body.count + chunk.count <= limit else {
                throw HTTPError(.tooLarge, "\(request.url.authority) sent more than \(limit) bytes for \(request.url.target)")
            }
            body.append(contentsOf: chunk)
        }
        let noBody = request.method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        if !noBody {
            if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
                try readChunked(connection, deliver)
            } else if let lengthText = response.header("content-length") {
                guard let length = Int64(lengthText.trimmingSpaces()), length >= 0 else {
                    throw HTTPError(.protocolError, "\(request.url.authority) sent a bad Content-Length \"\(lengthText)\"")
                }
                var remaining = length
                while remaining > 0 {
                    let n = try connection.read(upTo: Int(min(remaining, 1 << 20)), deliver)
                    if n == 0 {
                        throw HTTPError(.io, "\(request.url.authority) closed the connection after \(length - remaining) of \(length) bytes")
                    }
                    remaining -= Int64(n)
                }
            } else {
                while try connection.read(upTo: 1 << 20, deliver) > 0 {}
            }
        }
        return HTTPResponse(status: status, headers: headers, body: body, url: request.url)
    }

    private func readChunked(_ connection: HTTPConnection, _ deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            guard let line = try connection.readLine() else {
                throw HTTPError(.io, "\(connection.url.authority) closed the connection in the middle of a chunked body")
            }
            let sizeText = line.split(separator: ";").first.map { String($0).trimmingSpaces() } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw HTTPError(.protocolError, "\(connection.url.authority) sent a bad chunk size \"\(line.prefix(20))\"")
            }
            if size == 0 {
                while let trailer = try connection.readLine(), !trailer.isEmpty {}
                return
            }
            var remaining = size
            while remaining > 0 {
                let n = try connection.read(upTo: remaining, deliver)
                if n == 0 { throw HTTPError(.io, "\(connection.url.authority) closed the connection in the middle of a chunk") }
                remaining -= n
            }
            _ = try connection.readLine()
        }
    }

    private func sendFile(_ fd: Int32, offset: Int64, length: Int64, on connection: HTTPConnection) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var position = offset
        let end = offset + length
        while position < end {
            let want = Int(min(Int64(buffer.count), end - position))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPError(.io, "reading the upload failed: \(n == 0 ? "unexpected end of file" : String(cString: strerror(errno)))") }
            try buffer.withUnsafeBytes { try connection.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            position += Int64(n)
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" { view = view.dropLast() }
        return String(view)
    }
}
