# frozen_string_literal: true

require "test_helper"

# The README's Ruby blocks run against a branch, as written but for its URL.
class ReadmeTest < Minitest::Test
  README = File.expand_path("../README.md", __dir__)

  def test_ruby_blocks_run
    blocks = File.read(README).scan(/^```ruby\n(.*?)^```/m).map(&:first)
    refute_empty blocks
    port = URI(Branch.url).port
    Cyme::Client.new(Branch.url).apps.delete("pycon") if Cyme::Client.new(Branch.url).all_names.include?("pycon")
    blocks.each do |code|
      code = code.gsub("localhost:8000", "localhost:#{port}")
      results = Module.new.module_eval("binding", __FILE__, __LINE__).then do |scope|
        code.lines.filter_map { |line| [line, scope.eval(line)] unless line.strip.empty? }
      end
      check_comments(results, port)
    end
  end

  private

  # A `# => value` comment is checked when it holds no example-only value (ids).
  def check_comments(results, port)
    results.each do |line, value|
      expected = line[/# => (.*)$/, 1] or next
      next if expected.match?(/\h{8}-|\.\.\./)

      assert_equal eval(expected.gsub("localhost:8000", "localhost:#{port}")), value, line # rubocop:disable Security/Eval
    end
    assert_equal [4], results.select { |line, _| line.include?("processes") }.map(&:last)
  end
end
