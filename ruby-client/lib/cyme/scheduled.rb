# frozen_string_literal: true

module Cyme
  # A change the branch accepted and makes right after (`nowait: true`): the
  # Scheduled schema's fields (ok, operation, target, id), and #wait to
  # follow it to its end.
  #
  #   scheduled = instance.autoscale(min: 4, max: 10, nowait: true)
  #   scheduled.wait(timeout: 30)  # == {max: 10, min: 4}
  class Scheduled < Models::Scheduled
    # The first pause between two looks at the change, in seconds; each is
    # half as long again as the one before, up to LAST_POLL.
    FIRST_POLL = 0.05
    LAST_POLL = 1.0
    # Seconds #wait waits by default.
    DEFAULT_WAIT = 60.0

    # @param client [Cyme::Client]
    # @param data [Hash] the Scheduled as the branch sent it
    # @return [Cyme::Scheduled]
    def self.from_wire(client, data)
      scheduled = from_h(data)
      scheduled.__send__(:attach, client)
      scheduled
    end

    # @return [Cyme::Models::Operation] where the change stands now (getOperation)
    def status = @client.get_operation(id)

    # Waits until the change is made (polling getOperation), and returns what
    # the same call without `nowait` would have returned (a Cyme::Instance
    # for `instances.add`, a Models::Autoscale for `autoscale`...), or raises
    # the error it would have raised.
    #
    # @param timeout [Float, nil] seconds; nil waits as long as it takes
    # @return [Object] the change's result
    # @raise [Cyme::APIStatusError] the change's error (ConflictError, InternalServerError...)
    # @raise [Cyme::APITimeoutError] when the change is not done within `timeout`
    #   (it goes on all the same)
    def wait(timeout: DEFAULT_WAIT)
      deadline = timeout && (monotonic + timeout)
      pause = FIRST_POLL
      loop do
        change = status
        return Requestor.new(@client).result(operation, change.result) if change.state == "succeeded"
        raise error(change) if change.state == "failed"

        left = deadline && (deadline - monotonic)
        raise timed_out(timeout) if left && left <= 0

        sleep(left ? [pause, left].min : pause)
        pause = [pause * 1.5, LAST_POLL].min
      end
    end

    # @return [String] "#<Cyme::Scheduled putAutoscale /pycon/instances/w1/autoscale (ID)>"
    def inspect = "#<#{self.class.name} #{operation} #{target} (#{id})>"

    private

    def attach(client)
      @client = client
    end

    def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

    # The request the change stands for: its method, on its path (or its target).
    def request(path = nil) = [ROUTES.fetch(operation).http_method, "#{@client.base_url}#{path || target}"]

    def error(change)
      problem = change.problem || {}
      method, url = request(problem["instance"])
      APIStatusError.from_response(status: change.status || 500, headers: {}, body: problem,
                                   request_method: method, request_url: url)
    end

    def timed_out(timeout)
      method, url = request
      APITimeoutError.new(request_method: method, request_url: url,
                          message: "#{operation} was not done within #{timeout} s: #{method} #{url}")
    end
  end
end
