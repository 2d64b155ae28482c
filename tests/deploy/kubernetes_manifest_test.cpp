// Offline checks of deploy/kubernetes/gateway/: the manifests have the fields the Kubernetes API
// requires, agree with each other (selectors, port names, Secret keys) and with the gateway
// configuration they ship (listener and admin ports, probe paths, the journal volume, drain time
// against the grace period), and that configuration loads with the gateway's own checker
// (`sluice gateway --check`). With kubectl installed, `kubectl kustomize` renders the set as
// `kubectl apply -k` would; no cluster is needed for any of it (a dry-run apply needs an API
// server for discovery, which is why it is not used here).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "sluice/core/duration.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(SLUICE_SOURCE_DIR) / "deploy/kubernetes/gateway";
const fs::path kSluice = fs::path(SLUICE_BINARY_DIR) / "sluice";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs `command` through the shell, stderr folded into the output.
CommandResult run(const std::string& command) {
  CommandResult result;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) {
    result.output.append(buffer.data(), n);
  }
  result.status = ::pclose(pipe.release());
  return result;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The objects of every manifest kustomization.yaml lists, by kind.
std::map<std::string, YAML::Node> objects_by_kind() {
  std::map<std::string, YAML::Node> out;
  auto kustomization = YAML::LoadFile((kDir / "kustomization.yaml").string());
  for (const auto& resource : kustomization["resources"]) {
    for (const auto& doc : YAML::LoadAllFromFile((kDir / resource.as<std::string>()).string())) {
      if (doc.IsNull()) continue;
      out.emplace(doc["kind"].as<std::string>(), doc);
    }
  }
  return out;
}

YAML::Node gateway_container(const YAML::Node& deployment) {
  for (const auto& c : deployment["spec"]["template"]["spec"]["containers"]) {
    if (c["name"].as<std::string>() == "gateway") return c;
  }
  ADD_FAILURE() << "deployment.yaml: no container named gateway";
  return {};
}

// containerPort of the port named `name`, or 0.
int container_port(const YAML::Node& container, const std::string& name) {
  for (const auto& p : container["ports"]) {
    if (p["name"].as<std::string>() == name) return p["containerPort"].as<int>();
  }
  return 0;
}

std::chrono::milliseconds duration_of(const std::string& text) {
  auto parsed = sluice::core::parse_duration(text);
  EXPECT_TRUE(parsed.has_value()) << "not a duration: " << text;
  return parsed.has_value() ? std::chrono::duration_cast<std::chrono::milliseconds>(*parsed)
                            : std::chrono::milliseconds(0);
}

// `selector` (matchLabels or a Service's plain map) selects pods labelled `labels`.
bool selects(const YAML::Node& selector, const YAML::Node& labels) {
  if (!selector || selector.size() == 0) return false;
  for (const auto& kv : selector) {
    auto key = kv.first.as<std::string>();
    if (!labels[key] || labels[key].as<std::string>() != kv.second.as<std::string>()) return false;
  }
  return true;
}

class KubernetesGatewayManifests : public ::testing::Test {
 protected:
  void SetUp() override {
    objects_ = objects_by_kind();
    config_ = YAML::LoadFile((kDir / "gateway.yaml").string());
  }
  YAML::Node deployment() { return objects_["Deployment"]; }
  YAML::Node pod_spec() { return deployment()["spec"]["template"]["spec"]; }
  YAML::Node pod_labels() { return deployment()["spec"]["template"]["metadata"]["labels"]; }

  std::map<std::string, YAML::Node> objects_;
  YAML::Node config_;
};

TEST_F(KubernetesGatewayManifests, EveryObjectHasItsApiVersionKindAndName) {
  const std::map<std::string, std::string> expected = {
      {"Deployment", "apps/v1"},
      {"Service", "v1"},
      {"PodDisruptionBudget", "policy/v1"},
      {"HorizontalPodAutoscaler", "autoscaling/v2"}};
  for (const auto& [kind, api_version] : expected) {
    ASSERT_TRUE(objects_.count(kind)) << "kustomization.yaml lists no " << kind;
    const auto& object = objects_[kind];
    EXPECT_EQ(object["apiVersion"].as<std::string>(), api_version) << kind;
    EXPECT_EQ(object["metadata"]["name"].as<std::string>(), "sluice-gateway") << kind;
  }
  EXPECT_EQ(objects_.size(), expected.size()) << "an object kind this test does not check";
}

TEST_F(KubernetesGatewayManifests, SelectorsAndReferencesPointAtTheGatewayPods) {
  auto spec = deployment()["spec"];
  EXPECT_TRUE(selects(spec["selector"]["matchLabels"], pod_labels()))
      << "the Deployment's selector must match its own pod template";
  EXPECT_TRUE(selects(objects_["Service"]["spec"]["selector"], pod_labels()));
  EXPECT_TRUE(
      selects(objects_["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"], pod_labels()));
  auto target = objects_["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"];
  EXPECT_EQ(target["kind"].as<std::string>(), "Deployment");
  EXPECT_EQ(target["name"].as<std::string>(), deployment()["metadata"]["name"].as<std::string>());
  auto hpa = objects_["HorizontalPodAutoscaler"]["spec"];
  EXPECT_LE(hpa["minReplicas"].as<int>(), hpa["maxReplicas"].as<int>());
  EXPECT_GE(hpa["minReplicas"].as<int>(), 2) << "one replica cannot keep the PDB's promise";
  // The HPA's CPU utilisation is a share of the request: without one it cannot scale.
  EXPECT_TRUE(gateway_container(deployment())["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(gateway_container(deployment())["resources"]["limits"]["memory"]);
}

TEST_F(KubernetesGatewayManifests, PortsAndProbesMatchTheGatewayConfig) {
  auto container = gateway_container(deployment());
  int http = config_["listeners"][0]["port"].as<int>();
  int admin = config_["admin"]["port"].as<int>();
  EXPECT_EQ(container_port(container, "http"), http) << "gateway.yaml listeners[0].port";
  EXPECT_EQ(container_port(container, "admin"), admin) << "gateway.yaml admin.port";
  EXPECT_EQ(config_["listeners"][0]["address"].as<std::string>(), "0.0.0.0")
      << "a loopback listener is unreachable from the Service";
  EXPECT_EQ(config_["admin"]["address"].as<std::string>(), "0.0.0.0")
      << "a loopback admin listener is unreachable from the kubelet's probes";
  for (const auto& port : container["ports"]) {
    EXPECT_LE(port["name"].as<std::string>().size(), 15u) << "port names are IANA_SVC_NAMEs";
  }
  // Probes go to the admin listener, which serves /healthz and /readyz (src/gateway/admin.cpp).
  auto probe_target = [&](const char* probe) {
    auto get = container[probe]["httpGet"];
    EXPECT_TRUE(get) << probe << " has no httpGet";
    auto port = get["port"].as<std::string>();
    return std::make_pair(get["path"].as<std::string>(), container_port(container, port)
                                                             ? container_port(container, port)
                                                             : get["port"].as<int>());
  };
  EXPECT_EQ(probe_target("readinessProbe"), std::make_pair(std::string("/readyz"), admin));
  EXPECT_EQ(probe_target("livenessProbe"), std::make_pair(std::string("/healthz"), admin));
  EXPECT_EQ(probe_target("startupProbe"), std::make_pair(std::string("/healthz"), admin));
  // The Service sends clients to the proxy listener, never to the admin one.
  auto service_ports = objects_["Service"]["spec"]["ports"];
  ASSERT_EQ(service_ports.size(), 1u);
  EXPECT_EQ(container_port(container, service_ports[0]["targetPort"].as<std::string>()), http);
  auto annotations = deployment()["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(annotations["prometheus.io/scrape"].as<std::string>(), "true");
  EXPECT_EQ(annotations["prometheus.io/port"].as<std::string>(), std::to_string(admin));
  EXPECT_EQ(annotations["prometheus.io/path"].as<std::string>(), "/metrics");
}

TEST_F(KubernetesGatewayManifests, GracePeriodCoversPreStopDrainAndFinalShipping) {
  auto drain = duration_of(config_["drain_timeout"].as<std::string>());
  auto pre_stop = gateway_container(deployment())["lifecycle"]["preStop"]["exec"]["command"];
  ASSERT_EQ(pre_stop.size(), 2u);
  EXPECT_EQ(pre_stop[0].as<std::string>(), "/bin/sleep");
  auto sleep = std::chrono::seconds(pre_stop[1].as<int>());
  EXPECT_GE(sleep, std::chrono::seconds(3)) << "endpoint removal needs a few seconds";
  auto grace = std::chrono::seconds(pod_spec()["terminationGracePeriodSeconds"].as<int>());
  // The grace period runs from the start of preStop; after the drain the gateway ships its journal
  // one last time. Less than this and the kubelet's SIGKILL lands on streams still draining.
  EXPECT_GE(grace, sleep + drain + std::chrono::seconds(5))
      << "terminationGracePeriodSeconds " << grace.count() << "s < preStop " << sleep.count()
      << "s + drain_timeout " << drain.count() << "ms + 5s";
  auto command = gateway_container(deployment())["command"];
  EXPECT_EQ(command[1].as<std::string>(), "gateway") << "the gateway must be PID 1 for SIGTERM";
}

TEST_F(KubernetesGatewayManifests, RunsUnprivilegedWithTheJournalOnAnEmptyDir) {
  auto pod = pod_spec();
  auto container = gateway_container(deployment());
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_NE(pod["securityContext"]["runAsUser"].as<int>(), 0);
  EXPECT_TRUE(container["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  EXPECT_EQ(container["securityContext"]["capabilities"]["drop"][0].as<std::string>(), "ALL");
  std::map<std::string, YAML::Node> volumes;
  for (const auto& v : pod["volumes"]) volumes.emplace(v["name"].as<std::string>(), YAML::Node(v));
  std::map<std::string, std::string> mounts;  // mount path -> volume
  for (const auto& m : container["volumeMounts"]) {
    mounts[m["mountPath"].as<std::string>()] = m["name"].as<std::string>();
  }
  // With a read-only root the journal must be a writable volume, or the usage policy fails at load.
  auto journal = config_["policies"]["usage"]["journal"].as<std::string>();
  ASSERT_TRUE(mounts.count(journal)) << "gateway.yaml's journal " << journal << " is not mounted";
  EXPECT_TRUE(volumes[mounts[journal]]["emptyDir"]) << "the journal volume";
  // The config file the command names is the ConfigMap's key.
  auto config_path = fs::path(container["command"][3].as<std::string>());
  ASSERT_TRUE(mounts.count(config_path.parent_path().string()));
  auto config_volume = volumes[mounts[config_path.parent_path().string()]];
  EXPECT_EQ(config_volume["configMap"]["name"].as<std::string>(), "sluice-gateway-config");
  EXPECT_EQ(config_volume["configMap"]["items"][0]["path"].as<std::string>(),
            config_path.filename().string());
  auto kustomization = YAML::LoadFile((kDir / "kustomization.yaml").string());
  EXPECT_EQ(kustomization["configMapGenerator"][0]["name"].as<std::string>(),
            "sluice-gateway-config");
  EXPECT_EQ(kustomization["configMapGenerator"][0]["files"][0].as<std::string>(),
            config_path.filename().string());
}

TEST_F(KubernetesGatewayManifests, EverySecretTheConfigNeedsComesFromTheSecret) {
  auto secret = YAML::LoadFile((kDir / "secret.example.yaml").string());
  auto container = gateway_container(deployment());
  std::set<std::string> env;
  for (const auto& e : container["env"]) {
    env.insert(e["name"].as<std::string>());
    if (!e["valueFrom"]) continue;
    if (auto ref = e["valueFrom"]["secretKeyRef"]) {
      EXPECT_EQ(ref["name"].as<std::string>(), secret["metadata"]["name"].as<std::string>());
      EXPECT_TRUE(secret["stringData"][ref["key"].as<std::string>()])
          << "secret.example.yaml has no key " << ref["key"].as<std::string>();
    }
  }
  // The variables gateway.yaml reads, comment lines left out.
  std::string text;
  std::istringstream lines(read_text(kDir / "gateway.yaml"));
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(' ') != std::string::npos &&
        line[line.find_first_not_of(' ')] == '#')
      continue;
    text += line + "\n";
  }
  std::regex variable(R"(\$\{env:([A-Za-z_][A-Za-z0-9_]*)\})");
  int variables = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), variable), end; it != end; ++it) {
    ++variables;
    EXPECT_TRUE(env.count((*it)[1]))
        << "gateway.yaml reads ${env:" << (*it)[1] << "}, which deployment.yaml does not set";
  }
  EXPECT_GT(variables, 0);
  EXPECT_TRUE(env.count("PGPASSWORD")) << "the PostgreSQL store's password (libpq reads it)";
}

TEST_F(KubernetesGatewayManifests, SharedStateIsRedisAndPostgresql) {
  auto policies = config_["policies"];
  EXPECT_EQ(policies["token_limit"]["store"].as<std::string>(), "redis");
  EXPECT_EQ(policies["usage"]["store"].as<std::string>().rfind("postgresql://", 0), 0u);
}

// The shipped gateway.yaml as the gateway reads it, with the Secret's placeholder values in the
// environment. Only the journal directory is moved to a temporary one (the image's
// /var/lib/sluice/journal does not exist here).
TEST_F(KubernetesGatewayManifests, TheShippedConfigPassesTheGatewaysOwnCheck) {
  ASSERT_TRUE(fs::exists(kSluice)) << kSluice << " is not built";
  auto text = read_text(kDir / "gateway.yaml");
  const std::string journal = "journal: /var/lib/sluice/journal";
  auto at = text.find(journal);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(text.find(journal, at + 1), std::string::npos);
  auto dir =
      fs::temp_directory_path() / ("sluice-k8s-check-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  text.replace(at, journal.size(), "journal: " + (dir / "journal").string());
  auto config = dir / "gateway.yaml";
  std::ofstream(config) << text;

  auto secret = YAML::LoadFile((kDir / "secret.example.yaml").string());
  std::map<std::string, std::string> secret_values;
  for (const auto& kv : secret["stringData"]) {
    secret_values[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  std::string command = "env";
  for (const auto& e : gateway_container(deployment())["env"]) {
    auto value = e["value"]
                     ? e["value"].as<std::string>()
                     : secret_values[e["valueFrom"]["secretKeyRef"]["key"].as<std::string>()];
    command += " " + e["name"].as<std::string>() + "=" + shell_quote(value);
  }
  command += " " + shell_quote(kSluice.string()) + " gateway --check --config " +
             shell_quote(config.string());
  auto result = run(command);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("configuration is valid"), std::string::npos) << result.output;
  fs::remove_all(dir);
}

// What `kubectl apply -k deploy/kubernetes/gateway` would send, rendered offline.
TEST_F(KubernetesGatewayManifests, KubectlKustomizeRendersTheSet) {
  if (run("command -v kubectl").status != 0) {
    GTEST_SKIP() << "kubectl is not installed (Debian: apt-get install kubernetes-client, or "
                    "./scripts/install-deps.sh): the offline render of deploy/kubernetes/gateway "
                    "is not checked";
  }
  auto result = run("KUBECONFIG=/dev/null kubectl kustomize " + shell_quote(kDir.string()));
  ASSERT_EQ(result.status, 0) << result.output;
  std::map<std::string, YAML::Node> rendered;
  for (const auto& doc : YAML::LoadAll(result.output)) {
    rendered.emplace(doc["kind"].as<std::string>(), doc);
  }
  for (const char* kind :
       {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}) {
    EXPECT_TRUE(rendered.count(kind)) << "kubectl kustomize rendered no " << kind;
  }
  ASSERT_TRUE(rendered.count("ConfigMap") && rendered.count("Deployment"));
  auto config_map = rendered["ConfigMap"];
  auto name = config_map["metadata"]["name"].as<std::string>();
  EXPECT_EQ(name.rfind("sluice-gateway-config-", 0), 0u) << name;
  EXPECT_EQ(config_map["data"]["gateway.yaml"].as<std::string>(), read_text(kDir / "gateway.yaml"));
  // kustomize rewrote the Deployment's reference to the hashed name, so a new gateway.yaml rolls.
  std::string referenced;
  for (const auto& v : rendered["Deployment"]["spec"]["template"]["spec"]["volumes"]) {
    if (v["configMap"]) referenced = v["configMap"]["name"].as<std::string>();
  }
  EXPECT_EQ(referenced, name);
}

}  // namespace
