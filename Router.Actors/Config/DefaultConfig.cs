namespace Router.Actors.Config;

/// <summary>
/// The default configuration, used when <c>hocon/router.conf</c> is not next to the executable.
/// Kept identical to that file; a test compares them.
/// </summary>
internal static class DefaultConfig
{
    public const string FileName = "router.conf";

    public const string Text = """
# Ollama Proxy — default configuration (HOCON).
# Any single setting can be overridden by an environment variable: OLLAMA_PROXY_<PATH>, with dots and
# dashes as underscores, e.g. OLLAMA_PROXY_SERVER_HTTP_PORT=9090.

server {
  # Loopback only. Set to 0.0.0.0 (or an address) to expose the router to a network.
  host = "127.0.0.1"
  host = ${?OLLAMA_PROXY_HOST}
  http-port = 8080
  grpc-port = 50051
  max-request-body = 10MiB
  grpc-max-message = 4MiB
}

routing {
  # performance | balanced | efficiency | quiet | ultra-efficiency | auto
  default-mode = balanced
  power-aware = true
  max-attempts = 3
  aging-interval = 5s
  min-samples-for-live-metrics = 3
  default-expected-tokens = 128
}

telemetry {
  sysfs-root = "/sys"
  sample-interval = 2s
  nvidia-smi = true
  # otlp-endpoint = "http://localhost:4317"
}

# Settings every backend starts from; each backend below may override any of them.
backend-defaults {
  type = ollama
  enabled = true
  max-concurrent = 1
  # Waiting requests allowed per priority.
  queue-limits { best-effort = 16, normal = 64, high = 64, critical = 64 }
  timeouts { connect = 5s, first-byte = 120s, idle = 60s }
  health {
    interval = 30s
    unhealthy-interval = 2s
    timeout = 3s
    eject-after-failures = 3
    base-ejection = 10s
    max-ejection = 5m
    model-refresh-interval = 60s
  }
  sensors { hot-c = 80, limit-c = 95 }
}

backends = [
  ${backend-defaults} {
    id = ollama-npu
    name = "Ollama on NPU"
    hardware = npu
    endpoint = "http://localhost:11434"
    power-watts = 3
    avg-latency-ms = 800
    priority = 1
  }
  ${backend-defaults} {
    id = ollama-igpu
    name = "Ollama on integrated GPU"
    hardware = igpu
    endpoint = "http://localhost:11435"
    power-watts = 12
    avg-latency-ms = 350
    priority = 2
  }
  ${backend-defaults} {
    id = ollama-nvidia
    name = "Ollama on NVIDIA GPU"
    hardware = nvidia
    endpoint = "http://localhost:11436"
    power-watts = 55
    avg-latency-ms = 150
    priority = 3
    sensors { power = nvidia-smi }
  }
  ${backend-defaults} {
    id = ollama-cpu
    name = "Ollama on CPU"
    hardware = cpu
    endpoint = "http://localhost:11437"
    power-watts = 28
    avg-latency-ms = 1200
    priority = 0
    sensors { temperature = [x86_pkg_temp, coretemp], power = package-0 }
  }
]
""" + "\n";
}
