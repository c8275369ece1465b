# frozen_string_literal: true

require "test_helper"
require "webmock"
WebMock.disable! # enabled only by the test that needs it, below

# What the workers are doing, the levers, and Scheduled#wait, against a branch.
class WorkersTest < Minitest::Test
  include BranchTest

  def test_instances_show_what_their_workers_are_doing
    app = client.add(unique)
    first = app.instances.add
    second = app.instances.add
    assert_equal ["running", 0, nil], [first.state, first.restarts, first.last_exit]
    assert_kind_of Integer, first.pid
    disabled = second.disable
    assert_instance_of Cyme::Instance, disabled
    assert_equal ["disabled", false, nil], [disabled.state, disabled.is_enabled, disabled.pid]
    assert_equal "disabled", disabled.last_exit["reason"]
    states = app.instances.all.map { |i| [i.name, i.state] }
    assert_equal [[first.name, "running"], [second.name, "disabled"]], states
    assert_raises(Cyme::ConflictError) { second.restart }
    assert_equal "running", second.enable.state
    restarted = first.restart
    refute_equal first.pid, restarted.pid
    assert_equal "restarted", restarted.last_exit["reason"]
  ensure
    app&.delete
  end

  def test_a_rolling_restart_says_what_it_did_to_each_instance
    app = client.add(unique)
    first = app.instances.add
    second = app.instances.add
    second.disable
    rolled = app.restart
    assert_instance_of Cyme::Models::RollingRestart, rolled
    outcomes = rolled.instances.map { |outcome| [outcome["name"], outcome["outcome"]] }
    assert_equal [[first.name, "restarted"], [second.name, "skipped"]], outcomes
  ensure
    app&.delete
  end

  def test_wait_returns_what_the_call_would_have
    cyme = client
    app = cyme.add(unique)
    name = "w-#{SecureRandom.hex(4)}"
    created = app.instances.add(name, nowait: true).wait(timeout: 10.0)
    assert_instance_of Cyme::Instance, created
    assert_equal name, created.name
    assert_equal({ max: 4, min: 2 }, created.autoscale(min: 2, max: 4, nowait: true).wait)
    refute_equal created.pid, created.restart(nowait: true).wait.pid
    scheduled = app.queues.add("q", nowait: true)
    assert_equal "q", scheduled.wait.name
    change = cyme.get_operation(scheduled.id)
    assert_instance_of Cyme::Models::Operation, change
    assert_equal %w[putQueue succeeded], [change.operation, change.state]
    assert_equal change, scheduled.status
  ensure
    app&.delete
  end

  def test_wait_raises_the_error_the_change_met
    cyme = client
    app = cyme.add(unique)
    instance = app.instances.add
    # A frozen worker answers nothing: the change is accepted, then fails with 504.
    scheduled = cyme.with_headers("Cyme-Fault" => "kill=SIGSTOP; id=#{SecureRandom.hex(4)}") do
      instance.autoscale(max: 3, nowait: true)
    end
    error = assert_raises(Cyme::InternalServerError) { scheduled.wait(timeout: 10.0) }
    assert_equal 504, error.status
    assert_equal "urn:cyme:problem:gateway-timeout", error.problem_type
    assert_equal "PUT", error.request_method
    assert_equal "#{instance.url}/autoscale", error.request_url
  ensure
    app&.delete
  end

  def test_wait_on_a_change_the_branch_forgot_is_not_found
    cyme = client
    # As after a restart of the branch: the id names nothing any more.
    scheduled = Cyme::Scheduled.from_wire(cyme, "ok" => "operation scheduled", "operation" => "restartApp",
                                                "target" => "/pycon", "id" => "0f5e0d8f6c1b4a3e9d2c7b6a5f4e3d2c")
    assert_raises(Cyme::NotFoundError) { scheduled.wait(timeout: 1.0) }
  end

  # A change that is not done within the timeout: no branch can be made to
  # run one for as long as it takes, so WebMock plays it.
  def test_wait_gives_up_after_its_timeout
    WebMock.enable!
    running = { "id" => "c1", "operation" => "restartApp", "target" => "/pycon", "state" => "running",
                "created" => "2026-11-30T21:10:00.000Z", "started" => "2026-11-30T21:10:00.002Z",
                "finished" => nil, "status" => nil, "result" => nil, "problem" => nil,
                "progress" => { "done" => 1, "total" => 3, "current" => "w2" } }
    WebMock.stub_request(:get, "http://cyme.test/operations/c1")
           .to_return(status: 200, body: JSON.generate(running), headers: { "Content-Type" => "application/json" })
    cyme = Cyme::Client.new("http://cyme.test")
    scheduled = Cyme::Scheduled.from_wire(cyme, "ok" => "operation scheduled", "operation" => "restartApp",
                                                "target" => "/pycon", "id" => "c1")
    assert_equal({ done: 1, total: 3, current: "w2" }.transform_keys(&:to_s), scheduled.status.progress)
    error = assert_raises(Cyme::APITimeoutError) { scheduled.wait(timeout: 0.3) }
    assert_equal ["POST", "http://cyme.test/pycon"], [error.request_method, error.request_url]
    assert_match(/restartApp was not done within 0.3 s/, error.message)
  ensure
    WebMock.disable!
  end

  def test_metrics_are_text_for_prometheus
    cyme = client
    app = cyme.add(unique)
    instance = app.instances.add
    assert_includes cyme.metrics, %(cyme_instance_up{app="#{app.name}",instance="#{instance.name}"} 1.0)
  ensure
    app&.delete
  end
end
