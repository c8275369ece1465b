# frozen_string_literal: true

require "test_helper"

# One client shared by threads: one connection, no crossed responses.
class ThreadsTest < Minitest::Test
  include BranchTest

  def test_eight_threads_share_one_client
    cyme = client
    app = cyme.add(unique)
    names = Array.new(8) { |i| "w#{i}-#{SecureRandom.hex(3)}" }
    names.each { |name| app.instances.add(name) }
    threads = names.map do |name|
      Thread.new do
        Array.new(25) { app.instances.get(name).name }
      end
    end
    results = threads.map(&:value)
    assert_equal 200, results.sum(&:size)
    names.zip(results).each { |name, got| assert_equal [name] * 25, got }
  ensure
    app&.delete
  end
end
