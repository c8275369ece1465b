# frozen_string_literal: true

# The Ruby SDK (ruby-client/, `require "cyme"`) against raw Net::HTTP: what
# the gem adds to a call, and to a program's start.
#
# Run by `make bench` after the Python benchmarks; or alone:
#
#   ruby bench/ruby_sdk_bench.rb [--calls N] [--warmup N] [--round N] [--requires N]
#                                [--threads N,N,...] [--duration S] [--rounds N] [--no-pin]
#
# In one run this script:
#
# 1. starts a fresh `cyme-branch` (.venv/bin/cyme-branch) on a free loopback
#    port, its state in a temporary directory, with `-l WARNING` so that its
#    log does not dominate, and creates the app `pycon` and the instance `w1`
#    through the gem;
# 2. call: times `app.instances.get("w1")` through Cyme::Client against the
#    same GET through a raw Net::HTTP connection kept alive (`Net::HTTP.start`
#    once, then `http.get(path)` and `JSON.parse(body)` per call): --calls
#    calls per side after --warmup, interleaved in rounds of --round, the side
#    that goes first alternating, so that machine noise hits both alike;
#    prints the median per call and the ratio gem/raw (target: at most 1.15),
#    and the objects allocated per call (no target);
# 3. require: `require "cyme"` against `require "net/http"; require "json"`,
#    each timed inside fresh `ruby` processes (the require alone, not the
#    interpreter's start), --requires processes per side, interleaved;
#    prints the medians and the ratio (target: at most 1.5), and, without a
#    target, the standard libraries the gem loads required alone;
# 4. threads: the same GET from 1, 8, 10, 50 and 200 threads (--threads) at
#    once: one Cyme::Client shared by all the threads
#    (`app.instances.get("w1")`) against one raw Net::HTTP connection per
#    thread (`http.get(path)`, `JSON.parse`). Each side's threads start once
#    per thread count and make a first call (which opens their connections);
#    then the sides take turns, --rounds runs of --duration seconds each, the
#    side that goes first alternating, the other's threads waiting. Prints
#    the median calls per second of each side, the median and the range of
#    the rounds' ratios gem/raw (target: at least 0.9 at 8 threads; with one
#    thread, at least 1/1.15, the call target in calls per second; none at
#    10, 50 and 200 threads), and the CPU the
#    branch and this script used meanwhile (of one CPU each): raw Net::HTTP's
#    figure is the most this branch serves at that level, and the side whose
#    CPU is full is the bottleneck.
#
# Targets are printed as met or not met; nothing here asserts. On a machine
# with two or more cores the branch runs on CPU 0 and this script on CPU 1
# (taskset, from util-linux), unless --no-pin.

require "etc"
require "json"
require "net/http"
require "open3"
require "optparse"
require "rbconfig"
require "time"

ROOT = File.expand_path("..", __dir__)
LIB = File.join(ROOT, "ruby-client", "lib")
$LOAD_PATH.unshift(LIB)
require "cyme"
require_relative "../ruby-client/test/live_branch"

# The benchmark: options, the branch, the measures and the report.
module RubySdkBench
  APP = "pycon"
  INSTANCE = "w1"
  CALL_TARGET = 1.15    # gem/raw median time per call, at most
  REQUIRE_TARGET = 1.5  # gem/raw require time, at most
  THREADS_TARGET = 0.9  # gem/raw calls per second with threads, at least...
  THREADS_TARGETED = 8  # ...at this many threads
  BRANCH_CPU = 0
  CLIENT_CPU = 1
  PINNED_ENV = "CYME_BENCH_PINNED"

  class Error < StandardError; end

  Options = Struct.new(:calls, :warmup, :round, :requires, :threads, :duration, :rounds, :pin, keyword_init: true)

  # One measure's line of the table.
  Row = Struct.new(:label, :gem, :raw, :unit, :target, keyword_init: true) do
    def ratio = gem / raw

    def verdict
      return "-" unless target

      ratio <= target ? "met" : "not met"
    end
  end

  module_function

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def median(values)
    sorted = values.sort
    middle = sorted.size / 2
    sorted.size.odd? ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0
  end

  def pinned(argv, cpu) = cpu ? ["taskset", "--cpu-list", cpu.to_s, *argv] : argv

  def parse_options(argv)
    options = Options.new(calls: 2000, warmup: 200, round: 100, requires: 10, threads: [1, 8, 10, 50, 200],
                          duration: 0.5, rounds: 20, pin: true)
    OptionParser.new do |parser|
      parser.banner = "Usage: ruby bench/ruby_sdk_bench.rb [options]"
      parser.on("--calls N", Integer, "calls per side (2000)") { |n| options.calls = n }
      parser.on("--warmup N", Integer, "warm-up calls per side (200)") { |n| options.warmup = n }
      parser.on("--round N", Integer, "calls per side and round (100)") { |n| options.round = n }
      parser.on("--requires N", Integer, "fresh processes per require measure (10)") { |n| options.requires = n }
      thread_options(parser, options)
      parser.on("--no-pin", "do not pin the branch to CPU 0 and this script to CPU 1") { options.pin = false }
    end.parse!(argv)
    options.pin = false if cores < 2 || !system("taskset -V", out: File::NULL, err: File::NULL)
    options
  end

  def thread_options(parser, options)
    parser.on("--threads N,N", Array, "thread counts (1,8,10,50,200)") do |list|
      options.threads = list.map { |n| Integer(n) }
    end
    parser.on("--duration S", Float, "seconds per threads run (0.5)") { |s| options.duration = s }
    parser.on("--rounds N", Integer, "threads runs per side and thread count (20)") { |n| options.rounds = n }
  end

  # The machine's cores: under taskset, Etc.nprocessors counts only CPU 1.
  def cores = Integer(ENV.fetch(PINNED_ENV, Etc.nprocessors))

  # Runs this script again under taskset on CPU 1, once, when pinning.
  def pin_self(options, argv)
    return if !options.pin || ENV[PINNED_ENV]

    exec({ PINNED_ENV => cores.to_s }, *pinned([RbConfig.ruby, __FILE__, *argv], CLIENT_CPU))
  end

  def main(argv)
    original = argv.dup
    options = parse_options(argv)
    pin_self(options, original)
    rows, levels = Branch.run(options) { |url, pid| measure(url, pid, options) }
    puts Report.table(rows, Report.header(options))
    puts "", Report.threads_table(levels)
    0
  rescue Error, Cyme::Error => e
    warn "bench failed: #{e.message}"
    1
  end

  # The rows of the first table, and the thread counts' figures.
  def measure(url, branch_pid, options)
    warn "branch on #{url}; measuring calls ..."
    Branch.setup(url)
    calls = Calls.measure(url, options)
    warn "measuring requires ..."
    requires = Requires.measure(options)
    warn "measuring threads ..."
    [calls + requires, Threads.measure(url, branch_pid, options)]
  end

  # A fresh branch (a LiveBranch, which reads the branch's ready line).
  module Branch
    module_function

    # Starts a branch; yields its URL and its pid; stops it.
    def run(options)
      prefix = options.pin ? RubySdkBench.pinned([], BRANCH_CPU) : []
      branch = LiveBranch.new(id: "bench", args: %w[-l WARNING], prefix:).start
      begin
        yield branch.url, branch.pid
      ensure
        branch.close
      end
    rescue LiveBranch::BranchFailed => e
      raise Error, e.message
    end

    # The app and the instance whose GET is measured, made through the gem.
    def setup(url)
      cyme = Cyme::Client.new(url)
      app = cyme.add(APP, broker: "amqp://guest:guest@localhost:5672//")
      app.instances.add(INSTANCE)
    ensure
      cyme&.close
    end
  end

  # `app.instances.get(name)` through the gem against the same GET through
  # a raw Net::HTTP connection.
  module Calls
    PATH = "/#{APP}/instances/#{INSTANCE}".freeze

    module_function

    def measure(url, options)
      gem, raw, http = sides(url)
      check_same(gem.call, raw.call)
      [gem, raw].each { |side| options.warmup.times { side.call } }
      times = interleaved({ gem:, raw: }, options)
      [
        Row.new(label: "`app.instances.get(name)`, median per call", gem: RubySdkBench.median(times[:gem]),
                raw: RubySdkBench.median(times[:raw]), unit: :us, target: CALL_TARGET),
        Row.new(label: "objects allocated per call (no target)", gem: allocations(gem, options.round),
                raw: allocations(raw, options.round), unit: :objects)
      ]
    ensure
      http&.finish
    end

    # The two sides, each a lambda making one call, and the raw connection.
    def sides(url)
      app = Cyme::Client.new(url).get(APP)
      uri = URI(url)
      http = Net::HTTP.start(uri.host, uri.port)
      raw = lambda do
        response = http.get(PATH)
        raise Error, "raw GET #{PATH}: #{response.code}" unless response.code == "200"

        JSON.parse(response.body)
      end
      [-> { app.instances.get(INSTANCE) }, raw, http]
    end

    # Seconds per call of each side, in rounds, the side that goes first
    # alternating.
    def interleaved(sides, options)
      times = sides.transform_values { [] }
      (options.calls.to_f / options.round).ceil.times do |index|
        order = index.even? ? sides.keys : sides.keys.reverse
        order.each { |name| times[name].concat(timed(sides[name], options.round)) }
      end
      times
    end

    # Seconds per call, each call timed alone.
    def timed(side, count)
      Array.new(count) do
        started = RubySdkBench.monotonic
        side.call
        RubySdkBench.monotonic - started
      end
    end

    # Objects allocated per call, over count calls.
    def allocations(side, count)
      GC.start
      before = GC.stat(:total_allocated_objects)
      count.times { side.call }
      (GC.stat(:total_allocated_objects) - before).fdiv(count)
    end

    def check_same(instance, parsed)
      return if instance.is_a?(Cyme::Instance) && instance == parsed

      raise Error, "the gem and raw Net::HTTP disagree: #{instance.inspect} vs #{parsed.inspect}"
    end
  end

  # The same GET from many threads at once: one Cyme::Client shared by all
  # of them against one raw Net::HTTP connection per thread.
  module Threads
    # One thread count: each side's runs, in the order they were made.
    Level = Struct.new(:threads, :gem, :raw, keyword_init: true) do
      # gem/raw of each round (the two sides' runs of a round were made one
      # right after the other).
      def ratios = gem.zip(raw).map { |ours, theirs| ours.rate / theirs.rate }
      def ratio = RubySdkBench.median(ratios)

      # One thread makes one call at a time: there the target is the one per
      # call, in calls per second. The threads' target is set at
      # THREADS_TARGETED threads; other counts are measured without one.
      def target
        return (1 / CALL_TARGET).floor(2) if threads == 1

        THREADS_TARGET if threads == THREADS_TARGETED
      end

      def verdict
        return "-" unless target

        ratio >= target ? "met" : "not met"
      end
    end
    # One side's run: calls per second, and the CPU the branch and this
    # script used meanwhile, each as a fraction of one CPU.
    Run = Struct.new(:rate, :branch_cpu, :script_cpu, keyword_init: true)

    # One side's threads, each with its call, waiting between runs, so that
    # the two sides can take many short turns: machine noise then hits both
    # alike, and no run pays for starting threads or opening connections.
    class Crew
      # @param calls [Array<Proc>] one per thread; each thread makes a first
      #   call (which opens its connection) before the first run
      def initialize(calls)
        @running = false
        @done = Queue.new
        @gates = calls.map { Queue.new }
        @threads = calls.zip(@gates).map { |call, gate| Thread.new { work(call, gate) } }
        calls.size.times { @done.pop }
      end

      # Every thread calls for duration seconds; returns the calls made.
      def run(duration)
        @running = true
        @gates.each { |gate| gate << true }
        sleep duration
        @running = false
        Array.new(@gates.size) { @done.pop }.sum
      end

      def stop
        @gates.each { |gate| gate << false }
        @threads.each(&:join)
      end

      private

      def work(call, gate)
        call.call
        @done << 0
        while gate.pop
          made = 0
          while @running
            call.call
            made += 1
          end
          @done << made
        end
      end
    end

    module_function

    def measure(url, branch_pid, options)
      options.threads.map do |count|
        warn "  #{count} threads ..."
        level(url, branch_pid, count, options)
      end
    end

    # Both sides' crews of count threads, taking turns for --rounds rounds,
    # the side that goes first alternating.
    def level(url, branch_pid, count, options)
      client = Cyme::Client.new(url)
      connections = []
      crews = { gem: Crew.new(Array.new(count) { gem_call(client) }),
                raw: Crew.new(Array.new(count) { raw_call(url, connections) }) }
      runs = { gem: [], raw: [] }
      options.rounds.times do |index|
        order = index.even? ? runs.keys : runs.keys.reverse
        order.each { |side| runs[side] << run(crews[side], options.duration, branch_pid) }
      end
      Level.new(threads: count, **runs)
    ensure
      crews&.each_value(&:stop)
      client&.close
      connections.each(&:finish)
    end

    def run(crew, duration, branch_pid)
      started = clocks(branch_pid)
      made = crew.run(duration)
      ended = clocks(branch_pid)
      elapsed = ended[0] - started[0]
      Run.new(rate: made / elapsed, branch_cpu: (ended[1] - started[1]) / elapsed,
              script_cpu: (ended[2] - started[2]) / elapsed)
    end

    # [wall clock, the branch's CPU time, this process's CPU time], in seconds.
    def clocks(branch_pid)
      [RubySdkBench.monotonic, branch_cpu(branch_pid), Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)]
    end

    # The branch's user and system time, from /proc/PID/stat.
    def branch_cpu(pid)
      fields = File.read("/proc/#{pid}/stat").split(")").last.split
      (Integer(fields[11]) + Integer(fields[12])).fdiv(Etc.sysconf(Etc::SC_CLK_TCK))
    end

    def gem_call(client)
      app = client.get(APP)
      -> { app.instances.get(INSTANCE) }
    end

    def raw_call(url, connections)
      uri = URI(url)
      http = Net::HTTP.start(uri.host, uri.port)
      connections << http
      lambda do
        response = http.get(Calls::PATH)
        raise Error, "raw GET #{Calls::PATH}: #{response.code}" unless response.code == "200"

        JSON.parse(response.body)
      end
    end
  end

  # `require "cyme"` against its baselines, timed inside fresh processes.
  module Requires
    CYME = 'require "cyme"'
    # What `require "cyme"` is measured against.
    BASELINE = 'require "net/http"; require "json"'
    # The standard libraries the gem loads on `require "cyme"` (shown without a
    # target); `time` and `logger` load only when an HTTP date or CYME_LOG needs them.
    STDLIB = %w[json net/http securerandom uri].map { |lib| "require #{lib.inspect}" }.join("; ")

    module_function

    def measure(options)
      codes = { gem: CYME, raw: BASELINE, stdlib: STDLIB }
      times = codes.transform_values { [] }
      options.requires.times do |index|
        order = index.even? ? codes.keys : codes.keys.reverse
        order.each { |name| times[name] << require_time(codes[name]) }
      end
      medians = times.transform_values { |values| RubySdkBench.median(values) }
      [
        Row.new(label: "`#{CYME}` vs `#{BASELINE}`", gem: medians[:gem], raw: medians[:raw], unit: :ms,
                target: REQUIRE_TARGET),
        Row.new(label: "`#{CYME}` vs the standard libraries it loads (no target)", gem: medians[:gem],
                raw: medians[:stdlib], unit: :ms)
      ]
    end

    # Seconds the code's requires take, timed inside a fresh ruby (the same
    # -I for every side, so that each searches the same load path).
    def require_time(code)
      script = "t = Process.clock_gettime(Process::CLOCK_MONOTONIC); #{code}; " \
               "$stdout.puts(Process.clock_gettime(Process::CLOCK_MONOTONIC) - t)"
      out, err, status = Open3.capture3(RbConfig.ruby, "-I", LIB, "-e", script)
      raise Error, "ruby -e '#{code}' failed:\n#{err}" unless status.success?

      Float(out.lines.last)
    end
  end

  # The markdown table.
  module Report
    module_function

    def header(options)
      placement = options.pin ? "branch on CPU #{BRANCH_CPU}, this script on CPU #{CLIENT_CPU}" : "not pinned"
      [
        "date: #{Time.now.utc.strftime('%Y-%m-%d %H:%M')} UTC",
        "machine: #{RubySdkBench.cores} cores (#{cpu_model}), #{Etc.uname[:sysname]} #{Etc.uname[:release]}",
        "placement: #{placement}",
        "ruby #{RUBY_VERSION}, cyme #{Cyme::VERSION} (ruby-client/lib), #{branch_version} (-l WARNING)",
        "calls: #{options.calls} per side after #{options.warmup} of warm-up, in rounds of #{options.round}; " \
        "requires: #{options.requires} fresh processes per side, interleaved",
        "threads: #{options.threads.join(', ')}; #{options.rounds} runs of #{options.duration} s per side " \
        "and thread count, interleaved"
      ]
    end

    def threads_table(levels)
      lines = ["| threads | cyme, calls/s | raw Net::HTTP, calls/s (the branch's ceiling) | cyme/raw (range) | " \
               "branch CPU, cyme / raw | script CPU, cyme / raw | target | |",
               "|---:|---:|---:|---:|---:|---:|---:|---|"]
      levels.each do |level|
        ratios = level.ratios
        ratio = format("%<median>.2fx (%<min>.2f-%<max>.2f)", median: level.ratio, min: ratios.min, max: ratios.max)
        lines << "| #{level.threads} | #{rate(level.gem)} | #{rate(level.raw)} | #{ratio} | " \
                 "#{cpu(level.gem, :branch_cpu)} / #{cpu(level.raw, :branch_cpu)} | " \
                 "#{cpu(level.gem, :script_cpu)} / #{cpu(level.raw, :script_cpu)} | " \
                 "#{level.target ? ">= #{level.target}" : '-'} | #{level.verdict} |"
      end
      lines.join("\n")
    end

    # The median calls per second of runs, with a thousands separator.
    def rate(runs) = RubySdkBench.median(runs.map(&:rate)).round.to_s.gsub(/\B(?=(\d{3})+\z)/, ",")

    # The median CPU of runs, in percent of one CPU.
    def cpu(runs, field) = format("%d%%", (RubySdkBench.median(runs.map(&field)) * 100).round)

    def table(rows, header)
      lines = [*header, "", "| measure | cyme | raw | cyme/raw | target | |", "|---|---:|---:|---:|---:|---|"]
      rows.each do |row|
        target = row.target ? "<= #{row.target}" : "-"
        lines << "| #{row.label} | #{value(row.gem, row.unit)} | #{value(row.raw, row.unit)} | " \
                 "#{format('%.2fx', row.ratio)} | #{target} | #{row.verdict} |"
      end
      lines.join("\n")
    end

    def value(value, unit)
      case unit
      when :us then "#{(value * 1e6).round} µs"
      when :ms then format("%.1f ms", value * 1e3)
      else format("%.1f", value)
      end
    end

    def cpu_model
      line = File.foreach("/proc/cpuinfo").find { |text| text.start_with?("model name") }
      line ? line.split(":", 2).last.strip : "?"
    rescue SystemCallError
      "?"
    end

    def branch_version
      out, status = Open3.capture2e(LiveBranch::COMMAND, "--version")
      status.success? ? out.strip : "cyme-branch ?"
    rescue SystemCallError
      "cyme-branch ?"
    end
  end
end

exit(RubySdkBench.main(ARGV)) if $PROGRAM_NAME == __FILE__
