import BurrowLaunch
@testable import BurrowSandbox
import Testing

struct ContainerPlanTests {
    func input(network: RunOptions.Network = .none, uid: UInt32 = 0, canSetGroups: Bool = true, ttyGroup: UInt32? = 5) -> ContainerPlan.Input {
        ContainerPlan.Input(rootfsSteps: [LaunchPlan.Step(.setRoot("/store/c/merged"), label: "open the root filesystem")],
                            etcFiles: [("hosts", "127.0.0.1 localhost\n"), ("hostname", "abc\n"), ("resolv.conf", "")],
                            hostname: "abc", network: network, arguments: ["true"],
                            environment: ["PATH=/bin", "HOME=/root"], workingDirectory: "/work", uid: uid, gid: uid,
                            additionalGroups: [10], canSetGroups: canSetGroups, ttyGroup: ttyGroup, interactive: false)
    }

    func labels(_ plan: LaunchPlan) -> [String] { plan.steps.map(\.label) }

    @Test func ownNetworkNamespaceWithSysfsAndLoopback() {
        let plan = ContainerPlan.make(input())
        #expect(plan.namespaces == [.user, .mount, .pid, .uts, .ipc, .network])
        #expect(labels(plan).contains("mount sysfs on /sys"))
        #expect(labels(plan).last == "set the hostname abc")
        #expect(plan.stdinFromNull && plan.newSession)
    }

    @Test func hostNetworkBindsTheHostsSysfs() {
        let plan = ContainerPlan.make(input(network: .host))
        #expect(!plan.namespaces.contains(.network))
        #expect(labels(plan).contains("bind the host's /sys read-only"))
    }

    /// The order that must hold: the root first, everything inside it
    /// before pivot_root, the hostname after.
    @Test func stepsComeInOrder() {
        let all = labels(ContainerPlan.make(input()))
        func index(_ label: String) -> Int { all.firstIndex(of: label) ?? -1 }
        #expect(index("make the mount namespace private") == 0)
        #expect(index("open the root filesystem") < index("mount proc on /proc"))
        #expect(index("mount proc on /proc") < index("mask /proc/kcore"))
        #expect(index("mount tmpfs on /dev") < index("bind /dev/null"))
        #expect(index("bind /etc/resolv.conf") < index("pivot_root into the root filesystem"))
        // The /etc files are written to the container's /dev tmpfs, bound, and unlinked there.
        #expect(index("mount tmpfs on /dev") < index("write /etc/hosts"))
        #expect(index("write /etc/hosts") < index("bind /etc/hosts"))
        #expect(index("bind /etc/hosts") < index("tidy /dev after /etc/hosts"))
        #expect(index("make /proc/sys read-only") < index("pivot_root into the root filesystem"))
        #expect(index("pivot_root into the root filesystem") < index("set the hostname abc"))
    }

    @Test func devptsGroupOnlyWhenMapped() {
        func ptsData(_ plan: LaunchPlan) -> String? {
            for step in plan.steps {
                if case let .mount(_, target, _, data, _, _, _, _, _, _) = step.operation, target == "/dev/pts" { return data }
            }
            return nil
        }
        #expect(ptsData(ContainerPlan.make(input()))?.hasSuffix(",gid=5") == true)
        #expect(ptsData(ContainerPlan.make(input(ttyGroup: nil)))?.contains("gid=") == false)
    }

    @Test func rootGetsDockersCapabilitiesOthersNone() {
        let root = ContainerPlan.make(input()).process!
        #expect(root.capabilities?.effective == 0xa80425fb)
        #expect(root.capabilities?.bounding == 0xa80425fb)
        let user = ContainerPlan.make(input(uid: 1000)).process!
        #expect(user.capabilities?.effective == 0)
        #expect(user.capabilities?.bounding == 0xa80425fb)
        #expect(user.user?.uid == 1000)
    }

    @Test func primaryGroupLeadsAndSetgroupsDeniedLeavesThemAlone() {
        #expect(ContainerPlan.make(input()).process?.groups == [0, 10])
        #expect(ContainerPlan.make(input(uid: 10)).process?.groups == [10])
        #expect(ContainerPlan.make(input(canSetGroups: false)).process?.groups == nil)
    }
}
