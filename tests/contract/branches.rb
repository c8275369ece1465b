# frozen_string_literal: true

require "fileutils"
require "net/http"
require "socket"
require "tmpdir"

# Fresh branches for the Ruby runner: the twin of branches.py.
module Contract
  # A port nothing listens on.
  def self.free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  # A fresh cyme-branch with fault injection, and what its config asks for:
  # a token, neighbours (live branches, dead URLs, listeners that never answer),
  # origins and host names allowed.
  class Branch
    attr_reader :id, :url, :token

    def initialize(config, id = "contract")
      @id = id
      @token = config["token"]
      @root = Dir.mktmpdir("cyme-contract-")
      @port = Contract.free_port
      @url = "http://127.0.0.1:#{@port}"
      @neighbours = []
      @listeners = []
      @log = File.join(@root, "branch.log")
      env = { "CYME_BRANCH_TOKEN" => nil }
      @pid = Process.spawn(env, *argv(config), %i[out err] => @log, in: File::NULL)
    end

    def wait_up(timeout = 20)
      @neighbours.each { |neighbour| neighbour.wait_up(timeout) }
      deadline = Contract.monotonic + timeout
      loop do
        return self if up?
        raise "cyme-branch exited: #{File.read(@log)}" if Process.waitpid(@pid, Process::WNOHANG)

        if Contract.monotonic > deadline
          stop
          raise "cyme-branch did not start: #{File.read(@log)}"
        end
        sleep 0.02
      end
    end

    def stop
      terminate
      @neighbours.each(&:stop)
      @listeners.each(&:close)
      FileUtils.rm_rf(@root)
    end

    private

    # TERM, and KILL when the branch has not finished its requests in 10 s.
    def terminate
      Process.kill("TERM", @pid)
      deadline = Contract.monotonic + 10
      until Process.waitpid(@pid, Process::WNOHANG)
        if Contract.monotonic > deadline
          Process.kill("KILL", @pid)
          Process.wait(@pid)
          return
        end
        sleep 0.02
      end
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end

    def argv(config)
      argv = [BRANCH_COMMAND, "127.0.0.1:#{@port}", "-i", @id, "-D", File.join(@root, "state")]
      argv << "--allow-fault-injection"
      if @token
        File.write(File.join(@root, "token"), @token)
        argv += ["--token-file", File.join(@root, "token")]
      end
      config.fetch("peers", {}).each { |peer, kind| argv += ["--peer", "#{peer}=#{peer_url(peer, kind)}"] }
      argv += ["--peer-timeout", config["peer_timeout"].to_s] if config.key?("peer_timeout")
      config.fetch("allow_origins", []).each { |origin| argv += ["--allow-origin", origin] }
      config.fetch("allow_hosts", []).each { |host| argv += ["--allow-host", host] }
      argv
    end

    def peer_url(peer, kind)
      case kind
      when "branch"
        @neighbours << Branch.new(@token ? { "token" => @token } : {}, peer)
        @neighbours.last.url
      when "silent"
        # Connections are accepted by the kernel, and never answered.
        @listeners << TCPServer.new("127.0.0.1", 0)
        "http://127.0.0.1:#{@listeners.last.addr[1]}"
      when "unreachable" then "http://127.0.0.1:#{Contract.free_port}"
      else raise ScenarioError, "unknown kind of neighbour #{kind.inspect}"
      end
    end

    def up?
      Net::HTTP.get_response(URI("#{@url}/ping")).code == "200"
    rescue SystemCallError, IOError
      false
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
