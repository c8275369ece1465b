# frozen_string_literal: true

require "socket"

require_relative "../../ruby-client/test/live_branch"

# Fresh branches for the Ruby runner: the twin of branches.py.
module Contract
  # A fresh cyme-branch with fault injection (a LiveBranch), and what its
  # config asks for: a token, neighbours (live branches, dead URLs,
  # listeners that never answer), origins and host names allowed.
  class Branch
    attr_reader :id, :token

    def initialize(config, id = "contract")
      @id = id
      @token = config["token"]
      @neighbours = []
      @listeners = []
      peers = config.fetch("peers", {}).map { |peer, kind| "#{peer}=#{peer_url(peer, kind)}" }
      @branch = LiveBranch.new(id:, token: @token, peers:, peer_timeout: config["peer_timeout"],
                               fault_injection: true, args: arguments(config)).start(wait: false)
    end

    def url = @branch.url

    def wait_up
      @branch.wait_ready
      self
    end

    def stop
      @branch.close
      @neighbours.each(&:close)
      @listeners.each(&:close)
    end

    private

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
