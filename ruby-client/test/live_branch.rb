# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require "rbconfig"
require "socket"
require "tmpdir"

# A `cyme-branch` process for the Ruby tests, the Ruby contract runner and
# the Ruby benchmark: the twin of the Python suites' cyme_branch.testing.
#
#   branch = LiveBranch.new(token: "s3cret", fault_injection: true).start
#   Cyme::Client.new(branch.url, token: "s3cret").ping  # => "pong"
#   branch.close
#
# It starts `cyme-branch 127.0.0.1:0` (the repository's .venv, or
# ENV["CYME_BRANCH"]) in a directory of its own, and waits for the ready
# line the branch prints on stdout once it listens, a JSON object with its
# URL: there is no port to pick in advance and nothing to poll. If the
# branch exits first, or is late, BranchFailed says so with the end of its
# log. #close stops it (TERM, then KILL) and removes the directory.
#
# With tls: (LiveBranch.certificates) it serves HTTPS, and #url is https.
class LiveBranch
  # The branch exited, or did not say it was ready in time.
  class BranchFailed < StandardError; end

  ROOT = File.expand_path("../..", __dir__)
  COMMAND = ENV.fetch("CYME_BRANCH", File.join(ROOT, ".venv/bin/cyme-branch"))
  START_TIMEOUT = 30
  STOP_TIMEOUT = 10
  # The files of a throwaway CA (ca) and of the certificate it signed for
  # localhost, 127.0.0.1 and ::1 (cert, key).
  Certificates = Struct.new(:ca, :cert, :key, keyword_init: true)

  # Makes a throwaway CA and a branch certificate in dir, as the Python
  # suites do (cyme_branch.testing.make_certificates), with the Python next
  # to the branch's command.
  def self.certificates(dir)
    python = File.join(File.dirname(COMMAND), "python")
    out, status = Open3.capture2e(python, "-m", "cyme_branch.testing", "certs", dir)
    raise BranchFailed, "cannot make certificates in #{dir}:\n#{out}" unless status.success?

    Certificates.new(**JSON.parse(out.lines.last).transform_keys(&:to_sym))
  end

  # A TCP port nothing listens on at the moment (connections to it are
  # refused): for a URL where nothing answers, or a server a test plays.
  # A LiveBranch needs none.
  def self.free_port(host = "127.0.0.1")
    server = TCPServer.new(host, 0)
    server.addr[1]
  ensure
    server&.close
  end

  attr_reader :id, :root, :url, :port, :pid

  # @param id [String] the branch id (-i)
  # @param token [String, nil] required of every request (a token file)
  # @param peers [Array<String>] neighbours, `URL` or `ID=URL` (--peer)
  # @param peer_timeout [Numeric, nil]
  # @param fault_injection [Boolean] obey Cyme-Fault (--allow-fault-injection)
  # @param tls [Certificates, nil] serve HTTPS with them (--tls-cert, --tls-key)
  # @param args [Array<String>] more arguments
  # @param env [Hash{String => String, nil}] more environment (nil removes)
  # @param prefix [Array<String>] before the command, such as `taskset -c 0`
  def initialize(id: "b-#{rand(1 << 32).to_s(16)}", token: nil, peers: [], peer_timeout: nil,
                 fault_injection: false, tls: nil, args: [], env: {}, prefix: [])
    @id = id
    @token = token
    @options = { peers:, peer_timeout:, fault_injection:, tls:, args: }
    @env = { "CYME_BRANCH_TOKEN" => nil }.merge(env)
    @prefix = prefix
    @root = Dir.mktmpdir("cyme-branch-")
    @pid = nil
  end

  # Starts the process; with wait, returns once it is ready (#wait_ready).
  #
  # @return [LiveBranch] self
  def start(wait: true)
    raise BranchFailed, "#{COMMAND} not found: run `make install` in #{ROOT}" unless File.executable?(COMMAND)

    File.write(token_file, @token, perm: 0o600) if @token
    @stdout, writer = IO.pipe
    @pid = Process.spawn(@env, *@prefix, *argv, out: writer, err: log_path, in: File::NULL, pgroup: true)
    writer.close
    wait ? wait_ready : self
  end

  # Waits for the ready line; raises BranchFailed if the branch exits first
  # or does not say it is ready within timeout seconds.
  #
  # @return [LiveBranch] self
  def wait_ready(timeout = START_TIMEOUT)
    line = read_line(Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout)
    ready = line && parse(line)
    fail_start(line ? "said #{line.inspect} instead of its ready line" : "was not ready in #{timeout} s") unless ready
    @url = ready.fetch("url")
    @port = Integer(@url[/:(\d+)\z/, 1])
    drain
    self
  end

  # Stops the branch: TERM, and KILL when it has not finished in time.
  #
  # @return [Integer, nil] its exit status, nil when it had to be killed
  def stop(signal = "TERM")
    return nil unless @pid

    pid = @pid
    @pid = nil
    Process.kill(signal, pid)
    status = wait_exit(pid)
    @drain&.join(STOP_TIMEOUT)
    status
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  # Stops the branch and removes its directory.
  #
  # @return [void]
  def close
    stop
    FileUtils.rm_rf(@root)
  end

  # @return [String] everything the branch logged
  def log_text = File.exist?(log_path) ? File.read(log_path) : ""

  # @return [String]
  def inspect = "#<#{self.class.name} #{id} #{url}>"

  private

  def argv
    argv = [COMMAND, "127.0.0.1:0", "-i", @id, "-D", File.join(@root, "instances")]
    argv += ["--token-file", token_file] if @token
    @options[:peers].each { |peer| argv += ["--peer", peer] }
    argv += ["--peer-timeout", @options[:peer_timeout].to_s] if @options[:peer_timeout]
    argv << "--allow-fault-injection" if @options[:fault_injection]
    argv += ["--tls-cert", @options[:tls].cert, "--tls-key", @options[:tls].key] if @options[:tls]
    argv + @options[:args]
  end

  def token_file = File.join(@root, "token")

  def log_path = File.join(@root, "branch.stderr.log")

  # The first line of the branch's stdout, or nil when it closes or the
  # deadline passes first.
  def read_line(deadline)
    line = +""
    until line.end_with?("\n")
      left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return nil if left <= 0 || !@stdout.wait_readable(left)

      line << @stdout.readpartial(4096)
    end
    line.lines.first
  rescue EOFError
    nil
  end

  def parse(line)
    value = JSON.parse(line)
    value if value.is_a?(Hash) && value["event"] == "ready" && value.key?("url")
  rescue JSON::ParserError
    nil
  end

  # Reads the rest of the branch's stdout, so that it never fills the pipe.
  def drain
    stdout = @stdout
    @drain = Thread.new do
      IO.copy_stream(stdout, File::NULL)
    rescue IOError
      nil
    ensure
      stdout.close
    end
  end

  def fail_start(what)
    pid = @pid
    @pid = nil
    if Process.waitpid(pid, Process::WNOHANG)
      what = "exited with #{Process.last_status.exitstatus}"
    else
      force_kill(pid)
    end
    raise BranchFailed, "cyme-branch #{@id} #{what}:\n#{log_text.lines.last(40).join}"
  end

  def wait_exit(pid)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + STOP_TIMEOUT
    until Process.waitpid(pid, Process::WNOHANG)
      return force_kill(pid) if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.02
    end
    Process.last_status.exitstatus
  end

  def force_kill(pid)
    Process.kill("KILL", -pid)
    Process.wait(pid)
    nil
  end
end
