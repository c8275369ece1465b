# frozen_string_literal: true

# The Ruby runner: every scenario through Cyme::Client, each run against a
# fresh branch. Outcomes go to build/contract/ruby.json (or the directory in
# CYME_CONTRACT_RESULTS), which verdict.py compares with Python's.
#
#   ruby -I ruby-client/lib tests/contract/scenarios_test.rb [-n /talk/]

require "minitest/autorun"
require_relative "ruby_ops"

%w[CYME_URL CYME_TOKEN CYME_LOG].each { |name| ENV.delete(name) }

class ScenariosTest < Minitest::Test
  POOL = Contract::BranchPool.new
  RUNS = {} # rubocop:disable Style/MutableConstant -- filled in as the tests run

  Minitest.after_run do
    POOL.close
    Contract.write_results("ruby", RUNS) unless RUNS.empty?
  end

  Contract.load_all.each do |scenario|
    define_method("test_#{scenario.name.tr('-', '_')}") do
      outcome = "failed"
      POOL.take(scenario.branch) do |branch|
        run_scenario(scenario, branch)
        outcome = "passed"
      end
    ensure
      RUNS[scenario.name] = { "sync" => outcome }
    end
  end

  private

  def run_scenario(scenario, branch)
    sdk = RubyOps::RubySdk.new(branch.url, branch.token)
    Contract.run(scenario, sdk, { "branch_id" => branch.id })
    self.assertions += scenario.steps.length # each step is checked
  rescue Contract::StepFailed => e
    flunk(e.message)
  ensure
    sdk&.close
  end
end
