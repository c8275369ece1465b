# frozen_string_literal: true

require "json"
require "socket"

require_relative "../../ruby-client/test/live_branch"

# Fresh branches for the Ruby runner: the twin of branches.py.
module Contract
  # A fresh cyme-branch with fault injection (a LiveBranch), and what its
  # config asks for: a token, neighbours (live branches, dead URLs,
  # listeners that never answer), origins and host names allowed.
  #
  # With `cluster: {size: N}`, the first member of a fresh cluster of N on a
  # redis-server of its own, which `python -m cyme_branch.testing cluster`
  # starts (LiveCluster, as branches.py's) and stops when its stdin closes.
  class Branch
    attr_reader :id, :token

    def initialize(config, id = "contract")
      @id = id
      @token = config["token"]
      @neighbours = []
      @listeners = []
      config.key?("cluster") ? start_cluster(config) : start_branch(config)
    end

    def url = @cluster_url || @branch.url

    def wait_up
      return wait_cluster if @cluster

      @branch.wait_ready
      self
    end

    def stop
      return stop_cluster if @cluster

      @branch.close
      @neighbours.each(&:close)
      @listeners.each(&:close)
    end

    private

    # The cluster's python: the one beside cyme-branch (the repository's .venv).
    PYTHON = File.join(File.dirname(LiveBranch::COMMAND), "python")

    def start_branch(config)
      peers = config.fetch("peers", {}).map { |peer, kind| "#{peer}=#{peer_url(peer, kind)}" }
      @branch = LiveBranch.new(id:, token: @token, peers:, peer_timeout: config["peer_timeout"],
                               fault_injection: true, args: arguments(config)).start(wait: false)
    end

    def start_cluster(config)
      extra = config.keys - %w[token cluster]
      raise ScenarioError, "a cluster takes only a token, not #{extra}" unless extra.empty?

      token = @token ? ["--token", @token] : []
      @cluster = IO.popen([PYTHON, "-m", "cyme_branch.testing", "cluster", "--size", config["cluster"]["size"].to_s,
                           "--fault-injection", *token], "r+")
    end

    def wait_cluster
      line = @cluster.gets or raise ScenarioError, "the cluster did not start"
      first = JSON.parse(line).fetch("members").first
      @id = first.fetch("id")
      @cluster_url = first.fetch("url")
      self
    end

    def stop_cluster
      @cluster.close_write
      Process.wait(@cluster.pid)
      @cluster.close
    end

    # The arguments a config asks for beyond LiveBranch's own: the
    # supervisor's pace and restart storms, origins and host names allowed.
    def arguments(config)
      %w[sup_interval restart_max restart_window].flat_map do |key|
        config.key?(key) ? ["--#{key.tr('_', '-')}", config[key].to_s] : []
      end +
        config.fetch("allow_origins", []).flat_map { |origin| ["--allow-origin", origin] } +
        config.fetch("allow_hosts", []).flat_map { |host| ["--allow-host", host] }
    end

    def peer_url(peer, kind)
      case kind
      when "branch"
        @neighbours << LiveBranch.new(id: peer, token: @token).start
        @neighbours.last.url
      when "silent"
        # Connections are accepted by the kernel, and never answered.
        @listeners << TCPServer.new("127.0.0.1", 0)
        "http://127.0.0.1:#{@listeners.last.addr[1]}"
      when "unreachable" then "http://127.0.0.1:#{LiveBranch.free_port}"
      else raise ScenarioError, "unknown kind of neighbour #{kind.inspect}"
      end
    end
  end

  # Fresh branches, one per scenario run, started one ahead: taking a branch
  # starts the next one of the same config, so that its start-up overlaps
  # the scenario run before it. No branch is used twice.
  class BranchPool
    def initialize
      @spares = {}
    end

    def take(config)
      key = Contract.canonical(config)
      branch = @spares.delete(key) || Branch.new(config)
      @spares[key] = Branch.new(config)
      yield branch.wait_up
    ensure
      branch&.stop
    end

    def close
      @spares.each_value(&:stop)
      @spares.clear
    end
  end
end
