# frozen_string_literal: true

require "test_helper"

# The Ruby blocks of the repository's Markdown (this gem's README, the top
# README, docs/...) run against a branch, as written but for its URL.
# python-client/tests/test_readme.py does the same for Python blocks.
class ReadmeTest < Minitest::Test
  ROOT = File.expand_path("../..", __dir__)
  SKIPPED_DIRS = %w[node_modules build dist vendor pkg].freeze
  # Hidden directories (.venv, .git) are left out by the glob itself.
  READMES = Dir.glob("**/*.md", base: ROOT).select do |path|
    !path.split("/").intersect?(SKIPPED_DIRS) && File.read(File.join(ROOT, path)).include?("```ruby\n")
  end

  def test_the_readmes_with_ruby_blocks
    assert_includes READMES, "ruby-client/README.md"
    assert_includes READMES, "README.md"
  end

  READMES.each do |readme|
    define_method("test_ruby_blocks_of_#{readme.gsub(/\W/, '_')}") { run_blocks(File.join(ROOT, readme)) }
  end

  private

  def run_blocks(readme)
    blocks = File.read(readme).scan(/^```ruby\n(.*?)^```/m).map(&:first)
    refute_empty blocks
    port = URI(Branch.url).port
    cyme = Cyme::Client.new(Branch.url)
    cyme.apps.delete("pycon") if cyme.all_names.include?("pycon")
    checked = blocks.sum do |code|
      code = code.gsub(":8000", ":#{port}")
      results = Module.new.module_eval("binding", __FILE__, __LINE__).then do |scope|
        code.lines.filter_map { |line| [line, scope.eval(line)] unless line.strip.empty? }
      end
      check_comments(results, port)
    end
    assert_operator checked, :>=, 1, "#{readme}: no `# => value` comment was checked"
  end

  # A `# => value` comment is checked when it holds no example-only value
  # (ids); returns how many were.
  def check_comments(results, port)
    results.count do |line, value|
      expected = line[/# => (.*)$/, 1] or next false
      next false if expected.match?(/\h{8}-|\.\.\./)

      assert_equal eval(expected.gsub(":8000", ":#{port}")), value, line # rubocop:disable Security/Eval
      true
    end
  end
end
