# frozen_string_literal: true

require "test_helper"

# The session of the 2012 talk (slides 26-32), in Ruby.
class TalkTest < Minitest::Test
  def test_the_talks_session
    port = URI(Branch.url).port
    cyme = Cyme::Client.new("http://:#{port}")
    assert_equal "http://localhost:#{port}", cyme.base_url
    assert_equal 1, cyme.branches.size

    name = "pycon-#{SecureRandom.hex(4)}"
    app = cyme.add(name, broker: "amqp://", arguments: "--workdir=/opt/play/proj")
    assert_equal "#<Cyme::App http://localhost:#{port}/#{name}>", app.inspect
    assert_equal "--workdir=/opt/play/proj", app.arguments

    instance = app.instances.add
    assert_instance_of Cyme::Instance, instance
    assert_equal [instance.name], app.instances.all_names

    assert_equal({ max: 10, min: 4 }, instance.autoscale(min: 4, max: 10))
    assert_equal 4, instance.stats["pool"]["processes"].size

    queue = app.queues.add("celery", exchange: "celery", routing_key: "celery", exchange_type: "direct")
    assert_equal "celery", queue.name
    assert_equal({}, app.queues.add("celery").options) # the same as the defaults spelled out
  ensure
    app&.delete
  end
end
