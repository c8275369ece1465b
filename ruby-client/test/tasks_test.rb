# frozen_string_literal: true

require "test_helper"
require "time"

# Celery tasks through app.tasks, against the simulated branch, whose demo
# tasks (proj.tasks.add, sleep and fail) reach every state without Celery.
class TasksTest < Minitest::Test
  include BranchTest

  BACKEND = "redis://:s3cret@localhost:6379/1"

  def test_a_task_is_sent_and_waited_for
    app = client.add(unique, backend: BACKEND)
    assert_equal "redis://:**@localhost:6379/1", app.backend
    task = app.tasks.send("proj.tasks.add", args: [2, 3])
    assert_instance_of Cyme::Task, task
    assert_equal ["PENDING", "proj.tasks.add", "celery", app.name], [task.state, task.task, task.queue, task.app]
    assert_nil task.result
    assert_equal "#<Cyme::Task #{Branch.url}/#{app.name}/tasks/#{task.id} PENDING>", task.inspect
    assert_equal 5, task.wait(timeout: 10.0)
    done = app.tasks.get(task.id)
    assert_equal [task.id, "SUCCESS", 5, nil], [done.id, done.state, done.result, done.traceback]
    assert_match(/\A\d{4}-\d\d-\d\dT.*Z\z/, done.date_done)
  ensure
    app&.delete
  end

  def test_a_failure_raises_with_the_workers_traceback
    app = client.add(unique, backend: BACKEND)
    task = app.tasks.send("proj.tasks.fail", args: ["boom"], queue: "jobs")
    assert_equal "jobs", task.queue
    error = assert_raises(Cyme::TaskFailedError) { task.wait(timeout: 10.0) }
    assert_kind_of Cyme::TaskError, error
    assert_kind_of Cyme::APIError, error
    assert_equal [task.id, "FAILURE", "ValueError: boom"], [error.task_id, error.state, error.reason]
    assert error.message.start_with?("Task #{task.id} failed: ValueError: boom")
    assert error.traceback.end_with?("ValueError: boom\n")
    assert_equal({ "exc_type" => "ValueError", "exc_message" => ["boom"], "exc_module" => "builtins" },
                 error.task.result)
    assert_equal ["GET", task.url], [error.request_method, error.request_url]
    assert_nil app.tasks.get(task.id).traceback
    assert_equal error.traceback, app.tasks.get(task.id, traceback: true).traceback
  ensure
    app&.delete
  end

  def test_a_sleeping_task_is_started_and_revoked_with_terminate
    app = client.add(unique, backend: BACKEND)
    task = app.tasks.send("proj.tasks.sleep", kwargs: { seconds: 60 })
    started = app.tasks.get(task.id, wait: 0.2)
    assert_equal "STARTED", started.state
    assert_equal %w[hostname pid], started.result.keys.sort
    assert_equal({ id: task.id, terminate: false, signal: nil }, task.revoke)
    assert_equal "STARTED", app.tasks.get(task.id).state
    revoked = task.revoke(terminate: true, signal: "SIGKILL")
    assert_instance_of Cyme::Models::TaskRevoked, revoked
    assert_equal [true, "SIGKILL"], [revoked.terminate, revoked.signal]
    error = assert_raises(Cyme::TaskRevokedError) { task.wait(timeout: 10.0) }
    assert_equal %w[REVOKED terminated], [error.state, error.reason]
  ensure
    app&.delete
  end

  def test_a_task_counted_down_is_revoked_before_it_runs
    app = client.add(unique, backend: BACKEND)
    task = app.tasks.send("proj.tasks.add", args: [1, 1], eta: Time.now.utc + 3600, priority: 9)
    assert_equal "PENDING", app.tasks.get(task.id).state
    task.revoke
    assert_equal "revoked", assert_raises(Cyme::TaskRevokedError) { task.wait(timeout: 10.0) }.reason
    expired = app.tasks.send("proj.tasks.add", args: [1, 1], countdown: 30, expires: 0.05)
    assert_match(/\(expired\)/, assert_raises(Cyme::TaskRevokedError) { expired.wait(timeout: 10.0) }.message)
  ensure
    app&.delete
  end

  def test_wait_times_out_on_a_task_no_worker_runs
    app = client.add(unique, backend: BACKEND)
    task = app.tasks.send("proj.tasks.unknown_here", args: [1])
    error = assert_raises(Cyme::APITimeoutError) { task.wait(timeout: 0.3) }
    assert_match(/not done within 0\.3 s \(PENDING\)/, error.message)
    assert_equal "PENDING", app.tasks.get("no-such-task-id").state
  ensure
    app&.delete
  end

  def test_an_app_without_a_backend_sends_but_cannot_follow
    app = client.add(unique)
    assert_nil app.backend
    task = app.tasks.send("proj.tasks.add", args: [2, 3])
    error = assert_raises(Cyme::ConflictError) { task.wait(timeout: 5.0) }
    assert_equal "urn:cyme:problem:no-result-backend", error.problem_type
    client.add(app.name, backend: BACKEND)
    assert_equal 5, app.tasks.send("proj.tasks.add", args: [2, 3]).wait(timeout: 10.0)
  ensure
    app&.delete
  end

  def test_bad_input_is_refused_before_anything_is_sent
    app = client.add(unique, backend: BACKEND)
    error = assert_raises(Cyme::UnprocessableEntityError) { app.tasks.send("not a task", args: [1]) }
    assert_equal(["task"], error.errors.map { |e| e["field"] })
    error = assert_raises(Cyme::UnprocessableEntityError) do
      app.tasks.send("proj.tasks.add", countdown: 5, eta: "2026-12-01T09:00:00Z")
    end
    assert_equal(["eta"], error.errors.map { |e| e["field"] })
    assert_raises(Cyme::UnprocessableEntityError) { app.tasks.send("proj.tasks.add", priority: 256) }
    assert_raises(Cyme::NotFoundError) { client.call("sendTask", app: unique("no-app"), task: "proj.tasks.add") }
  ensure
    app&.delete
  end

  def test_a_retried_send_gets_the_same_task
    app = client.add(unique, backend: BACKEND)
    first = app.tasks.send("proj.tasks.add", args: [2, 3], idempotency_key: unique("send"))
    key = unique("send")
    once = app.tasks.send("proj.tasks.add", args: [2, 3], idempotency_key: key)
    again = app.tasks.send("proj.tasks.add", args: [2, 3], idempotency_key: key)
    assert_equal once.id, again.id
    refute_equal first.id, once.id
  ensure
    app&.delete
  end

  def test_call_reaches_the_tasks_and_the_original_routes
    app = client.add(unique, backend: BACKEND)
    sent = client.call("sendTask", app: app.name, task: "proj.tasks.add", args: [4, 5])
    assert_instance_of Cyme::Models::TaskSent, sent # a 202 that is no Scheduled
    assert_equal 9, app.tasks.get(sent.id, wait: 10).result
    assert_equal({ state: "SUCCESS" }, client.call("getTaskState", app: app.name, task: sent.id))
    assert_equal({ result: 9 }, client.call("getTaskResult", app: app.name, task: sent.id))
    assert_equal({ result: 9 }, client.call("waitTaskResult", app: app.name, task: sent.id))
  ensure
    app&.delete
  end
end
