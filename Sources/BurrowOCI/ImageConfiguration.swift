/// The image configuration blob (OCI image-spec config.md, Docker's image JSON).
public struct ImageConfiguration: Codable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ContainerConfiguration?
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String, os: String, variant: String? = nil, created: String? = nil, config: ContainerConfiguration? = nil, rootfs: RootFS, history: [History]? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.created = created
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diffIDs: [Digest]

        public init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diffIDs = diffIDs
        }

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    public struct History: Codable, Sendable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?

        public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
            self.emptyLayer = emptyLayer
        }

        enum CodingKeys: String, CodingKey {
            case created, author, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }
}

/// The "config" object: how a container of this image runs by default.
public struct ContainerConfiguration: Codable, Sendable, Equatable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    public var shell: [String]?
    public var onBuild: [String]?
    public var healthcheck: HealthConfig?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case argsEscaped = "ArgsEscaped"
        case shell = "Shell"
        case onBuild = "OnBuild"
        case healthcheck = "Healthcheck"
    }
}

/// HEALTHCHECK as Docker records it: Test (["NONE"], ["CMD", ...] or
/// ["CMD-SHELL", "..."]) and durations in nanoseconds.
public struct HealthConfig: Codable, Sendable, Equatable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    public init(test: [String]? = nil) { self.test = test }

    enum CodingKeys: String, CodingKey {
        case test = "Test"
        case interval = "Interval"
        case timeout = "Timeout"
        case startPeriod = "StartPeriod"
        case startInterval = "StartInterval"
        case retries = "Retries"
    }
}

/// `{}` in maps such as ExposedPorts.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

extension ContainerConfiguration {
    /// The "config" object of an image configuration, read without
    /// JSONDecoder: this runs on every container start. Agrees with the
    /// Codable conformance above (a test holds the two together).
    public init(configurationDocument json: JSONValue) {
        self.init()
        guard let config = json["config"], case .object = config else { return }
        user = config["User"]?.string
        env = config["Env"]?.strings
        entrypoint = config["Entrypoint"]?.strings
        cmd = config["Cmd"]?.strings
        workingDir = config["WorkingDir"]?.string
        stopSignal = config["StopSignal"]?.string
        argsEscaped = config["ArgsEscaped"]?.bool
        shell = config["Shell"]?.strings
        onBuild = config["OnBuild"]?.strings
        if let members = config["Labels"]?.members {
            labels = Dictionary(members.compactMap { key, value in value.string.map { (key, $0) } }, uniquingKeysWith: { $1 })
        }
        if let members = config["ExposedPorts"]?.members { exposedPorts = Dictionary(members.map { ($0.0, EmptyObject()) }, uniquingKeysWith: { $1 }) }
        if let members = config["Volumes"]?.members { volumes = Dictionary(members.map { ($0.0, EmptyObject()) }, uniquingKeysWith: { $1 }) }
        if let check = config["Healthcheck"], case .object = check {
            var health = HealthConfig(test: check["Test"]?.strings)
            health.interval = check["Interval"]?.int64
            health.timeout = check["Timeout"]?.int64
            health.startPeriod = check["StartPeriod"]?.int64
            health.startInterval = check["StartInterval"]?.int64
            health.retries = check["Retries"]?.int64.map { Int($0) }
            healthcheck = health
        }
    }
}
