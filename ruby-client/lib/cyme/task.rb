# frozen_string_literal: true

module Cyme
  # A Celery task of an app: the Task schema's fields (id, state, result,
  # date_done, traceback) as the app's result backend had them when it was
  # fetched (a task just sent is PENDING), #wait for its result and #revoke.
  # #task and #queue are those it was sent with (nil when it was fetched by id).
  #
  #   task = app.tasks.send("proj.tasks.add", args: [2, 3])
  #   task.wait(timeout: 10)  # => 5
  class Task < Models::Task
    # Seconds #wait waits by default.
    DEFAULT_WAIT = 60.0
    # The most the branch holds one request (getTask's `wait`).
    WAIT_PER_REQUEST = 20.0
    # Seconds beyond the wait, for the answer to come back.
    WAIT_MARGIN = 10.0

    # @param client [Cyme::Client]
    # @param app [String] the app's name
    # @param data [Hash] the task as the branch sent it (and what is known besides)
    # @return [Cyme::Task]
    def self.from_wire(client, app, data)
      task = from_h({ "result" => nil, "date_done" => nil }.merge(data.to_h.transform_keys(&:to_s), "app" => app))
      task.__send__(:attach, client)
      task
    end

    # @return [String] the app's name
    def app = self["app"]

    # @return [String, nil] the task's name, when it was sent by this SDK
    def task = self["task"]

    # @return [String, nil] the queue it was sent to, when it was sent by this SDK
    def queue = self["queue"]

    # Waits until the task is done (getTask, each request held by the branch
    # until it is, 20 seconds at most) and returns what it returned, as
    # Celery's AsyncResult#get does.
    #
    # @param timeout [Float, nil] seconds; nil waits as long as it takes
    # @return [Object] the task's result
    # @raise [Cyme::TaskFailedError] when it failed (its #traceback is the worker's)
    # @raise [Cyme::TaskRevokedError] when it was revoked
    # @raise [Cyme::APITimeoutError] when it is not done within `timeout` (it goes on)
    def wait(timeout: DEFAULT_WAIT)
      deadline = timeout && (monotonic + timeout)
      loop do
        left = deadline && [deadline - monotonic, 0.0].max
        now = fetch(left ? [left, WAIT_PER_REQUEST].min : WAIT_PER_REQUEST)
        case now.state
        when "SUCCESS" then return now.result
        when "FAILURE" then raise TaskFailedError.new(task: now, request_method: "GET", request_url: url)
        when "REVOKED" then raise TaskRevokedError.new(task: now, request_method: "GET", request_url: url)
        end
        raise timed_out(timeout, now) if deadline && monotonic >= deadline
      end
    end

    # Revokes the task (revokeTask): a worker discards it if it has not
    # started; with `terminate: true` a running one gets `signal` (SIGTERM
    # by default).
    #
    # @param terminate [Boolean]
    # @param signal [String, nil] "SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1" or "SIGUSR2"
    # @return [Cyme::Models::TaskRevoked]
    def revoke(terminate: false, signal: nil) = @client.call("revokeTask", app:, task: id, terminate:, signal:)

    # @return [String] the task's URL
    def url = "#{@client.base_url}#{Transport.path(app, 'tasks', id)}"

    # @return [String] "#<Cyme::Task http://localhost:8000/pycon/tasks/ID SUCCESS>"
    def inspect = "#<#{self.class.name} #{url} #{state}>"

    private

    def attach(client)
      @client = client
    end

    def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

    # The task as the branch has it now, once done or after `wait` seconds.
    def fetch(wait)
      patient = @client.with_options(timeout: wait + WAIT_MARGIN)
      data = patient.call("getTask", app:, task: id, wait: wait.round(3), traceback: true)
      Task.from_wire(@client, app, { "task" => task, "queue" => queue }.merge(data.to_h.transform_keys(&:to_s)))
    end

    def timed_out(timeout, now)
      APITimeoutError.new(request_method: "GET", request_url: url,
                          message: "Task #{id} was not done within #{timeout} s (#{now.state}): GET #{url}")
    end
  end
end
