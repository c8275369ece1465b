# frozen_string_literal: true

# The matchers and variables of contract.rb decide the cases of
# matchers.yaml as written; test_matching.py holds contract.py to the same.

require "minitest/autorun"
require_relative "contract"

class MatchingTest < Minitest::Test
  CASES = YAML.safe_load(File.read(File.join(__dir__, "matchers.yaml"), encoding: "UTF-8"))

  def test_matchers_yaml
    CASES.each do |c|
      if c["error"]
        assert_raises(Contract::ScenarioError, c.inspect) { Contract::Matching.mismatches(c["expected"], c["actual"]) }
      else
        assert_equal c["matches"], Contract::Matching.mismatches(c["expected"], c["actual"]).empty?, c.inspect
      end
    end
  end

  def test_variables
    variables = { "name" => "w1", "names" => ["a"], "count" => 3 }
    assert_equal ["a"], Contract.substitute("${names}", variables)
    substituted = Contract.substitute({ "q" => "dq.${name}", "n" => "${count}" }, variables)
    assert_equal({ "q" => "dq.w1", "n" => 3 }, substituted)
    assert_equal "w1-3", Contract.substitute("${name}-${count}", variables)
    assert_raises(Contract::ScenarioError) { Contract.substitute("${nope}", variables) }
    assert_raises(Contract::ScenarioError) { Contract.substitute("x${names}", variables) }
  end

  def test_dig
    result = { "pool" => { "processes" => [7, 8] }, "a.b" => 1 }
    assert_equal 8, Contract.dig(result, "pool.processes.1")
    assert_same result, Contract.dig(result, ".")
    assert_raises(Contract::StepFailed) { Contract.dig(result, "pool.threads") }
    assert_raises(Contract::StepFailed) { Contract.dig(result, "pool.processes.2") }
  end
end
