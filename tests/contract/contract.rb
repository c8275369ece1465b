# frozen_string_literal: true

require "digest"
require "fileutils"
require "json"
require "yaml"

# The Ruby side of the contract suite: scenarios and their rules (here),
# how `expect` matches (matching.rb) and fresh branches (branches.rb); the
# twin of contract.py (with matching.py and branches.py), which decides
# every step alike (matchers.yaml holds the cases both run). A scenario is
# run step by step through an SDK adapter (ruby_ops.rb) that performs one
# operationId with SDK-neutral arguments and reports a result or a failure.
module Contract
  HERE = __dir__
  REPO = File.expand_path("../..", HERE)
  SCENARIOS = File.join(HERE, "scenarios")

  # Each error class and what naming it implies (see error_classes.yaml).
  ERROR_CLASSES = YAML.safe_load_file(File.join(HERE, "error_classes.yaml")).freeze
  # The status each error class stands for, when a step names the class alone.
  IMPLIED_STATUS = ERROR_CLASSES.select { |_, implied| implied.is_a?(Integer) }.freeze
  # Errors without an answer: nothing to compare but the class.
  NO_STATUS = ERROR_CLASSES.filter_map { |name, implied| name if implied == "none" }.freeze
  POLL_INTERVAL = 0.05
  VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/
  STEP_KEYS = %w[op note args nowait client headers fault idempotency_key expect error save poll wait].freeze

  # The scenario itself is wrong (unknown variable, matcher or argument).
  class ScenarioError < StandardError; end
  # A step did not get what it expected.
  class StepFailed < StandardError; end

  # One scenario file, parsed.
  Scenario = Struct.new(:name, :description, :branch, :steps, :path, :digest, keyword_init: true) do
    def to_s = name
  end
  # An error an SDK raised, as the scenarios see it.
  Failure = Struct.new(:cls, :status, :type, :fields, keyword_init: true) do
    def to_s = status ? "#{cls} (#{status})" : cls
  end
  # What one call came back with: a result (JSON data) or a failure.
  Outcome = Struct.new(:result, :failure, keyword_init: true)
  # One step, made SDK-neutral and with its variables substituted.
  # `wait`: with nowait, or on sendTask, seconds to wait on the Scheduled answer or the
  # task (what it comes to is the step's result).
  Call = Struct.new(:op, :args, :client, :headers, :idempotency_key, :wait, keyword_init: true)

  module_function

  # -- scenario files --------------------------------------------------------

  # The JSON text both runners make of a parsed scenario: sorted keys, no spaces.
  def canonical(data)
    JSON.generate(sorted(data))
  end

  def sorted(data)
    case data
    when Hash then data.keys.sort.to_h { |key| [key, sorted(data[key])] }
    when Array then data.map { |item| sorted(item) }
    else data
    end
  end

  # What the runners report of each scenario, so that the verdict can tell
  # that Python and Ruby parsed the same file into the same steps.
  def digest(data) = Digest::SHA256.hexdigest(canonical(data))

  def load(path)
    data = YAML.safe_load(File.read(path, encoding: "UTF-8"))
    raise ScenarioError, "#{File.basename(path)}: a scenario is a mapping" unless data.is_a?(Hash)

    data.fetch("steps", []).each_with_index do |step, index|
      unknown = step.keys - STEP_KEYS
      raise ScenarioError, "#{File.basename(path)}, step #{index + 1}: unknown keys #{unknown}" unless unknown.empty?
    end
    Scenario.new(name: data["name"].to_s, description: data["description"].to_s, branch: data["branch"] || {},
                 steps: data["steps"] || [], path: path, digest: digest(data))
  end

  def load_all(directory = SCENARIOS)
    Dir.glob(File.join(directory, "*.yaml")).map { |path| load(path) }
  end

  # -- variables -------------------------------------------------------------

  # `value` with `${name}` replaced: a whole-string reference by the
  # variable's value (any type), a reference inside a string by its text.
  def substitute(value, variables)
    case value
    when String
      whole = value.match(/\A#{VARIABLE}\z/o)
      return deep_copy(lookup(variables, whole[1])) if whole

      value.gsub(VARIABLE) { as_text(lookup(variables, Regexp.last_match(1))) }
    when Array then value.map { |item| substitute(item, variables) }
    when Hash then value.transform_values { |item| substitute(item, variables) }
    else value
    end
  end

  def lookup(variables, name)
    raise ScenarioError, "unknown variable ${#{name}}" unless variables.key?(name)

    variables[name]
  end

  def as_text(value)
    return value if value.is_a?(String)
    return value.to_s if value.is_a?(Integer)

    raise ScenarioError, "only strings and integers go inside a string, not #{value.inspect}"
  end

  def deep_copy(value) = Marshal.load(Marshal.dump(value))

  # The part of a result at a dotted path (`pool.processes`, `0`, `.` for all).
  def dig(value, path)
    return value if path == "."

    path.split(".").reduce(value) do |current, part|
      if current.is_a?(Array) && part.match?(/\A\d+\z/) && part.to_i < current.length
        current[part.to_i]
      elsif current.is_a?(Hash) && current.key?(part)
        current[part]
      else
        raise StepFailed, "the result has nothing at #{path.inspect}"
      end
    end
  end

  # -- running ---------------------------------------------------------------

  def prepare(step, variables)
    args = substitute(step.fetch("args", {}), variables)
    args["nowait"] = true if step["nowait"]
    headers = substitute(step.fetch("headers", {}), variables)
    headers["Cyme-Fault"] = substitute(step["fault"], variables) if step.key?("fault")
    key = step["idempotency_key"]
    Call.new(op: step.fetch("op"), args: args, client: substitute(step.fetch("client", {}), variables),
             headers: headers, idempotency_key: key.nil? ? nil : substitute(key, variables),
             wait: step.key?("wait") ? step["wait"].to_f : nil)
  end

  # What is wrong with the outcome of a step; empty when it is what the step expects.
  def judge(step, outcome, variables)
    if step.key?("error")
      want = step["error"].is_a?(Hash) ? step["error"] : { "class" => step["error"] }
      return judge_error(want, outcome)
    end
    return ["expected a result, got #{outcome.failure}"] if outcome.failure
    return Matching.mismatches(substitute(step["expect"], variables), outcome.result) if step.key?("expect")

    []
  end

  def judge_error(want, outcome)
    got = outcome.failure
    return ["expected #{want['class']}, got the result #{outcome.result.inspect}"] if got.nil?

    status = want.fetch("status", IMPLIED_STATUS[want["class"]])
    problems = []
    problems << "expected #{want['class']}, got #{got}" if got.cls != want["class"]
    if !NO_STATUS.include?(want["class"]) && got.status != status
      problems << "expected status #{status}, got #{got.status}"
    end
    if want.key?("type") && got.type != want["type"]
      problems << "expected problem type #{want['type']}, got #{got.type}"
    end
    missing = want.fetch("fields", []) - got.fields
    problems << "expected errors on #{missing}, got #{got.fields}" unless missing.empty?
    problems
  end

  # Runs every step; raises StepFailed at the first that does not pass.
  def run(scenario, sdk, variables)
    scenario.steps.each.with_index(1) do |step, number|
      call, outcome, problems = attempt(step, sdk, variables)
      raise StepFailed, "#{scenario.name}, step #{number} (#{call.op}): #{problems.join('; ')}" unless problems.empty?

      step.fetch("save", {}).each { |name, path| variables[name] = dig(outcome.result, path) }
    end
  end

  # One step, repeated while it fails and its `poll` time lasts.
  def attempt(step, sdk, variables)
    deadline = monotonic + step.fetch("poll", 0).to_f
    loop do
      call = prepare(step, variables)
      outcome = sdk.call(call)
      problems = judge(step, outcome, variables)
      return [call, outcome, problems] if problems.empty? || monotonic >= deadline

      sleep POLL_INTERVAL
    end
  end

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # -- results ---------------------------------------------------------------

  # Where a runner writes its verdicts (CYME_CONTRACT_RESULTS is a directory).
  def results_path(language)
    File.join(ENV.fetch("CYME_CONTRACT_RESULTS", File.join(REPO, "build", "contract")), "#{language}.json")
  end

  # Writes `{scenario: {"digest": ..., "runs": {mode: passed|failed|skipped}}}`.
  def write_results(language, runs)
    digests = load_all.to_h { |scenario| [scenario.name, scenario.digest] }
    scenarios = runs.keys.sort.to_h do |name|
      [name, { "digest" => digests[name], "runs" => runs[name].sort.to_h }]
    end
    path = results_path(language)
    FileUtils.mkdir_p(File.dirname(path))
    File.write(path, "#{JSON.pretty_generate({ 'language' => language, 'scenarios' => scenarios })}\n")
    path
  end
end

require_relative "matching"
require_relative "branches"
