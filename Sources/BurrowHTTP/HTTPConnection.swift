import CSSL
import Glibc

/// One TCP connection, with TLS over OpenSSL's libssl when the URL is
/// https. FoundationNetworking needs libcurl, which cannot be linked into
/// the static release binary, so requests go over plain sockets.
final class HTTPConnection {
    private var fd: Int32
    private var context: OpaquePointer? = nil
    private var ssl: OpaquePointer? = nil
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var start = 0
    private var end = 0
    let url: HTTPURL

    /// A plain-HTTP request through a proxy names the whole URL.
    let proxied: HTTPProxy?

    init(to url: HTTPURL, trust: TLSTrust, timeout: Int) throws {
        self.url = url
        let proxy = HTTPProxy.forURL(url)
        if let proxy {
            do {
                fd = try HTTPConnection.connect(host: proxy.host, port: proxy.port, timeout: min(timeout, 30))
            } catch let error as HTTPError {
                throw HTTPError(.connect, "the proxy \(proxy.host):\(proxy.port) (HTTPS_PROXY or HTTP_PROXY): \(error.message)")
            }
        } else {
            fd = try HTTPConnection.connect(host: url.host, port: url.port, timeout: min(timeout, 30))
        }
        proxied = url.secure ? nil : proxy
        do {
            if let proxy, url.secure { try tunnel(through: proxy) }
            if url.secure { try handshake(trust: trust) }
        } catch {
            close()
            throw error
        }
    }

    /// CONNECT host:port, for TLS end to end through the proxy.
    private func tunnel(through proxy: HTTPProxy) throws {
        let target = "\(url.host.contains(":") ? "[\(url.host)]" : url.host):\(url.port)"
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization = proxy.authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        try write(Array(request.utf8))
        guard let status = try readLine() else { throw HTTPError(.connect, "the proxy \(proxy.host):\(proxy.port) closed the connection") }
        let parts = status.split(separator: " ", maxSplits: 2)
        while let line = try readLine(), !line.isEmpty {}
        guard parts.count >= 2, parts[1] == "200" else {
            throw HTTPError(.connect, "the proxy \(proxy.host):\(proxy.port) refused to connect to \(url.authority) (\(status)): check HTTPS_PROXY and NO_PROXY")
        }
    }

    deinit { close() }

    func close() {
        if let ssl { SSL_free(ssl); self.ssl = nil }
        if let context { SSL_CTX_free(context); self.context = nil }
        // Once only: a second close could hit a descriptor another thread has since opened.
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    private static func connect(host: String, port: Int, timeout: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>? = nil
        // Numeric addresses and localhost never reach the resolver (NSS),
        // which a static binary can only load from the host's libc.
        let name = host == "localhost" ? "127.0.0.1" : host
        var rc = getaddrinfo(name, String(port), &hints, &list)
        if rc != 0 {
            hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG
            rc = getaddrinfo(name, String(port), &hints, &list)
        }
        guard rc == 0, let first = list else {
            throw HTTPError(.connect, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(current.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = errno; continue }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            // Non-blocking, so that an address that drops packets fails after
            // `timeout` seconds rather than the kernel's two minutes of SYNs.
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var rc = Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen)
            if rc != 0 && errno == EINPROGRESS {
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                var polled: Int32
                repeat { polled = poll(&ready, 1, Int32(timeout * 1000)) } while polled < 0 && errno == EINTR
                if polled == 0 {
                    errno = ETIMEDOUT
                } else {
                    var soError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                    if soError == 0 { rc = 0 } else { errno = soError }
                }
            }
            if rc == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            lastError = errno
            Glibc.close(fd)
        }
        throw HTTPError(.connect, "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    private func handshake(trust: TLSTrust) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw HTTPError(.tls, "cannot set up TLS: \(HTTPConnection.sslError())") }
        self.context = context
        _ = burrow_ssl_ctx_min_tls12(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        SSL_CTX_set_default_verify_paths(context)
        for file in trust.certificateFiles(for: url) {
            if SSL_CTX_load_verify_locations(context, file, nil) != 1 {
                throw HTTPError(.certificate, "cannot read the certificate \(file): \(HTTPConnection.sslError()); give a PEM file")
            }
        }
        guard let ssl = SSL_new(context) else { throw HTTPError(.tls, "cannot set up TLS: \(HTTPConnection.sslError())") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        let isAddress = url.host.contains(":") || url.host.allSatisfy { $0.isNumber || $0 == "." }
        if !isAddress { _ = burrow_ssl_set_sni(ssl, url.host) }
        if isAddress {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host)
        } else {
            SSL_set1_host(ssl, url.host)
        }
        ERR_clear_error()
        if SSL_connect(ssl) != 1 {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verify))
                throw HTTPError(.certificate, "the TLS certificate of \(url.authority) is not trusted (\(reason)): put its CA certificate in ~/.config/burrow/certs.d/\(url.authority)/ca.crt")
            }
            let reason = HTTPConnection.sslError()
            if reason.contains("wrong version number") || reason.contains("packet length too long") || reason.contains("record layer failure") {
                throw HTTPError(.notTLS, "\(url.authority) does not speak TLS (\(reason))")
            }
            throw HTTPError(.tls, "TLS handshake with \(url.authority) failed: \(reason)")
        }
    }

    static func sslError() -> String {
        let code = ERR_get_error()
        if code == 0 { return String(cString: strerror(errno)) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let full = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "error:0A00010B:SSL routines::wrong version number" → the reason.
        return full.split(separator: ":").last.map(String.init) ?? full
    }

    // MARK: bytes

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let pointer = bytes.baseAddress! + offset
            let count = bytes.count - offset
            let n: Int
            if let ssl {
                let r = SSL_write(ssl, pointer, Int32(min(count, Int(Int32.max))))
                if r <= 0 { throw HTTPError(.io, "sending to \(url.authority) failed: \(HTTPConnection.sslError())") }
                n = Int(r)
            } else {
                let r = send(fd, pointer, count, Int32(MSG_NOSIGNAL))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw HTTPError(.io, "sending to \(url.authority) failed: \(String(cString: strerror(errno)))")
                }
                n = r
            }
            offset += n
        }
    }

    /// Reads what is there into `into`; 0 at the end of the stream.
    private func readRaw(_ into: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        while true {
            if let ssl {
                let r = SSL_read(ssl, into, Int32(min(count, Int(Int32.max))))
                if r > 0 { return Int(r) }
                let error = SSL_get_error(ssl, r)
                if error == SSL_ERROR_ZERO_RETURN { return 0 }
                if error == SSL_ERROR_SYSCALL && errno == 0 { return 0 }
                if error == SSL_ERROR_SYSCALL && errno == EINTR { continue }
                if error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    throw HTTPError(.io, "\(url.authority) stopped sending (timed out)")
                }
                throw HTTPError(.io, "reading from \(url.authority) failed: \(HTTPConnection.sslError())")
            }
            let r = recv(fd, into, count, 0)
            if r >= 0 { return r }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPError(.io, "\(url.authority) stopped sending (timed out)") }
            throw HTTPError(.io, "reading from \(url.authority) failed: \(String(cString: strerror(errno)))")
        }
    }

    private func fill() throws -> Bool {
        if start == end { start = 0; end = 0 }
        if end == buffer.count {
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
            }
        }
        let capacity = buffer.count - end
        let end0 = end
        let n = try buffer.withUnsafeMutableBytes { try readRaw($0.baseAddress! + end0, capacity) }
        end += n
        return n > 0
    }

    /// One line without its CRLF; nil at the end of the stream.
    func readLine(limit: Int = 64 << 10) throws -> String? {
        var scanned = start
        while true {
            while scanned < end {
                if buffer[scanned] == 10 {
                    var lineEnd = scanned
                    if lineEnd > start && buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
                    let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
                    start = scanned + 1
                    return line
                }
                scanned += 1
            }
            if end - start > limit { throw HTTPError(.protocolError, "\(url.authority) sent a header line longer than \(limit) bytes") }
            let offset = scanned - start
            guard try fill() else {
                if start == end { return nil }
                throw HTTPError(.protocolError, "\(url.authority) closed the connection in the middle of a line")
            }
            scanned = start + offset
        }
    }

    /// Up to `count` bytes to `body`; 0 at the end of the stream.
    func read(upTo count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        if start == end {
            guard try fill() else { return 0 }
        }
        let n = min(count, end - start)
        try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
        start += n
        return n
    }
}

/// Which certificates a connection trusts beyond the system's: the
/// per-registry `certs.d/HOST[:PORT]/*.crt` folders Docker and podman read.
public struct TLSTrust: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    func certificateFiles(for url: HTTPURL) -> [String] {
        var files: [String] = []
        for directory in directories {
            let folder = "\(directory)/\(url.authority)"
            guard let dir = opendir(folder) else { continue }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if name.hasSuffix(".crt") { names.append(name) }
            }
            files += names.sorted().map { "\(folder)/\($0)" }
        }
        return files
    }
}
