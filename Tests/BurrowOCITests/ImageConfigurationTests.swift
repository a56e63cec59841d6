import BurrowOCI
import FoundationEssentials
import Testing

struct ImageConfigurationTests {
    @Test func decodesADockerConfigWithFieldsItDoesNotKnow() throws {
        let json = """
        {"architecture":"amd64","os":"linux","docker_version":"24.0","container":"abc",
         "config":{"User":"app:app","Env":["PATH=/bin","LANG=C.UTF-8"],"Entrypoint":["/init"],"Cmd":["serve","--port","80"],
                   "WorkingDir":"/srv","ExposedPorts":{"80/tcp":{}},"Labels":{"a":"b"},"StopSignal":"SIGQUIT","Healthcheck":{"Test":["NONE"]}},
         "rootfs":{"type":"layers","diff_ids":["sha256:\(String(repeating: "1", count: 64))"]},
         "history":[{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) CMD","empty_layer":true}]}
        """
        let config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(json.utf8))
        #expect(config.config?.user == "app:app")
        #expect(config.config?.entrypoint == ["/init"])
        #expect(config.config?.cmd == ["serve", "--port", "80"])
        #expect(config.config?.exposedPorts?["80/tcp"] != nil)
        #expect(config.config?.stopSignal == "SIGQUIT")
        #expect(config.rootfs.diffIDs.count == 1)
        #expect(config.history?.first?.emptyLayer == true)
    }

    @Test func refusesAConfigWithoutRootfs() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ImageConfiguration.self, from: Data(#"{"architecture":"amd64","os":"linux"}"#.utf8))
        }
    }
}
