# frozen_string_literal: true

require "test_helper"
require "open3"

# The generated models.
class ModelsTest < Minitest::Test
  ROOT = File.expand_path("..", __dir__)

  def test_generated_files_are_up_to_date
    _, status = Open3.capture2e(RbConfig.ruby, File.join(ROOT, "bin/generate-models"), "--check")
    assert status.success?, "run `make generate-ruby`"
    digest = Digest::SHA256.file(File.expand_path("../openapi.yaml", ROOT)).hexdigest
    assert_includes File.read(File.join(ROOT, "lib/cyme/models/generated.rb")), digest
  end

  def test_equality_and_lookup
    autoscale = Cyme::Models::Autoscale.new(max: 10, min: 4)
    assert_equal autoscale, Cyme::Models::Autoscale.from_h("min" => 4, "max" => 10)
    assert_equal({ max: 10, min: 4 }, autoscale)
    assert_equal autoscale, { "max" => 10, "min" => 4 }
    refute_equal autoscale, Cyme::Models::AutoscaleInput.new(max: 10, min: 4)
    assert_equal 10, autoscale[:max]
    assert_equal 10, autoscale["max"]
    assert_equal({ max: 10, min: 4 }, autoscale.to_h)
    assert_equal '{"max":10,"min":4}', autoscale.to_json
  end

  def test_unknown_keys_are_kept
    stats = Cyme::Models::Stats.from_h("pid" => 1, "pool" => { "processes" => [2, 3] }, "consumer" => { "x" => 1 })
    assert_equal [2, 3], stats["pool"]["processes"]
    assert_equal({ "x" => 1 }, stats["consumer"])
    consumer = Cyme::Models::Consumer.new(name: "q", exchange: {}, routing_key: "q", alias: "x")
    assert_equal "x", consumer["alias"]
    assert_nil consumer.durable
    refute consumer.key?("durable")
  end

  def test_required_fields_are_required
    assert_raises(ArgumentError) { Cyme::Models::Autoscale.new(max: 1) }
  end
end
