# frozen_string_literal: true

module Cyme
  # The errors raised by the SDK, named as in the Python SDK:
  #
  #   Error                          anything raised by this gem
  #   └── APIError                   a request to the branch failed
  #       ├── APIConnectionError     no response: refused, reset, DNS, TLS...
  #       │   └── APITimeoutError    no response in time
  #       ├── TaskError              Task#wait saw the task end otherwise than in SUCCESS
  #       │   ├── TaskFailedError        FAILURE: the task raised
  #       │   └── TaskRevokedError       REVOKED: revoked, terminated or expired
  #       └── APIStatusError         a 4xx or 5xx response (other statuses)
  #           ├── BadRequestError            400
  #           ├── AuthenticationError        401
  #           ├── PermissionDeniedError      403
  #           ├── NotFoundError              404
  #           ├── ConflictError              409
  #           ├── UnprocessableEntityError   422
  #           ├── RateLimitError             429
  #           └── InternalServerError        500 and above
  #
  # Messages and attributes name the request by method and URL; they never
  # carry the token, which only ever travels in the Authorization header.
  class Error < StandardError; end

  # A request to the branch failed.
  class APIError < Error
    # @return [String] the request's method, such as "GET"
    attr_reader :request_method
    # @return [String] the request's URL (without credentials)
    attr_reader :request_url

    # @param message [String]
    # @param request_method [String]
    # @param request_url [String]
    def initialize(message, request_method:, request_url:)
      super(message)
      @request_method = request_method
      @request_url = request_url
    end
  end

  # The branch could not be reached, or the connection broke before a response.
  class APIConnectionError < APIError
    # @param request_method [String]
    # @param request_url [String]
    # @param message [String, nil]
    def initialize(request_method:, request_url:, message: nil)
      super(message || "Connection error: #{request_method} #{request_url}",
            request_method:, request_url:)
    end
  end

  # The branch did not answer within the client's timeout.
  class APITimeoutError < APIConnectionError
    # @param request_method [String]
    # @param request_url [String]
    # @param message [String, nil]
    def initialize(request_method:, request_url:, message: nil)
      super(message: message || "Request timed out: #{request_method} #{request_url}",
            request_method:, request_url:)
    end
  end

  # The branch answered with an error status (4xx or 5xx).
  class APIStatusError < APIError
    # @return [Integer] the HTTP status
    attr_reader :status
    # @return [Cyme::Models::Problem, nil] the problem document, when the body was one
    attr_reader :problem
    # @return [String, nil] the response's X-Request-Id, to find it in the branch's log
    attr_reader :request_id
    # @return [Hash{String => String}] the response's headers, lowercase names
    attr_reader :headers
    # @return [Object] the parsed body (a Hash for JSON, else a String)
    attr_reader :body

    # Errors by status; other 4xx are APIStatusError, 5xx InternalServerError.
    # Filled in below, once the subclasses exist.
    STATUS_ERRORS = {} # rubocop:disable Style/MutableConstant -- frozen below

    # The one place where a response status becomes an exception.
    #
    # @param status [Integer]
    # @param headers [Hash{String => String}]
    # @param body [Object]
    # @param request_method [String]
    # @param request_url [String]
    # @return [APIStatusError]
    def self.from_response(status:, headers:, body:, request_method:, request_url:)
      klass = STATUS_ERRORS.fetch(status) { status >= 500 ? InternalServerError : APIStatusError }
      klass.new(status:, headers:, body:,
                request_method:, request_url:)
    end

    # @param status [Integer]
    # @param headers [Hash{String => String}]
    # @param body [Object]
    # @param request_method [String]
    # @param request_url [String]
    def initialize(status:, headers:, body:, request_method:, request_url:)
      @status = status
      @request_method = request_method
      @request_url = request_url
      @headers = headers
      @body = body
      @request_id = headers["x-request-id"]
      @problem = body.is_a?(Hash) && body.key?("status") ? Models::Problem.from_h(body) : nil
      super(build_message, request_method:, request_url:)
    end

    # @return [String, nil] the problem's type, such as "urn:cyme:problem:not-found"
    def problem_type = problem&.type

    # @return [Array<Hash{String => String}>] for a 422, every invalid field
    #   ("location", "field", "message"); empty otherwise
    def errors = problem&.errors || []

    private

    def build_message
      title = problem&.title || "HTTP error"
      detail = problem&.detail
      text = "#{status} #{title}#{": #{detail}" if detail}"
      text += " (#{request_method} #{request_url}"
      text += ", request id #{request_id}" if request_id
      "#{text})"
    end
  end

  # 400: the request could not be parsed.
  class BadRequestError < APIStatusError; end
  # 401: the branch needs a token, and this one is missing or wrong.
  class AuthenticationError < APIStatusError; end
  # 403: refused whatever the token: a web page of an origin the branch does not
  # serve sent it, or it named a host the branch does not answer to
  # (`problem_type` says which).
  class PermissionDeniedError < APIStatusError; end
  # 404: no such app, instance, queue, consumer, branch or route.
  class NotFoundError < APIStatusError; end
  # 409: the request conflicts with the branch's state (a taken name...).
  class ConflictError < APIStatusError; end
  # 422: a field is invalid; `problem.errors` lists each.
  class UnprocessableEntityError < APIStatusError; end
  # 429: too many requests; retried by default.
  class RateLimitError < APIStatusError; end
  # 500 and above: the branch, or a neighbour, failed.
  class InternalServerError < APIStatusError; end

  APIStatusError::STATUS_ERRORS.merge!(
    400 => BadRequestError,
    401 => AuthenticationError,
    403 => PermissionDeniedError,
    404 => NotFoundError,
    409 => ConflictError,
    422 => UnprocessableEntityError,
    429 => RateLimitError
  ).freeze

  # A task followed with Task#wait ended otherwise than in SUCCESS. The
  # branch answered, and said so: #task is the task as it answered it.
  class TaskError < APIError
    # @return [Cyme::Task] the task, with its state, result and traceback
    attr_reader :task
    # @return [String]
    attr_reader :task_id
    # @return [String] "FAILURE" or "REVOKED"
    attr_reader :state
    # @return [String, nil] what ended it: the exception of a task that
    #   failed ("ValueError: boom"), why one was revoked ("terminated")
    attr_reader :reason
    # @return [String, nil] the worker's traceback, for a task that failed
    attr_reader :traceback

    # @param message [String]
    # @param task [Cyme::Task]
    # @param reason [String, nil]
    # @param request_method [String]
    # @param request_url [String]
    def initialize(message, task:, reason:, request_method:, request_url:)
      @task = task
      @task_id = task.id
      @state = task.state
      @reason = reason
      @traceback = task.traceback
      super(message, request_method:, request_url:)
    end
  end

  # The task raised (FAILURE): #reason names the exception ("ValueError:
  # boom"), #traceback is the worker's.
  class TaskFailedError < TaskError
    # @param task [Cyme::Task]
    # @param request_method [String]
    # @param request_url [String]
    def initialize(task:, request_method:, request_url:)
      reason = describe(task.result)
      super("Task #{task.id} failed: #{reason}", task:, reason:, request_method:, request_url:)
    end

    private

    # "ValueError: boom", of an exception as Celery keeps it ("exc_type", "exc_message").
    def describe(result)
      return result.inspect unless result.is_a?(Hash) && result.key?("exc_type")

      message = result["exc_message"]
      message = message.map(&:to_s).join(", ") if message.is_a?(Array)
      [nil, ""].include?(message) ? result["exc_type"].to_s : "#{result['exc_type']}: #{message}"
    end
  end

  # The task was revoked (REVOKED): #reason says whether before it ran
  # ("revoked"), while it ran ("terminated"), or as it expired ("expired").
  class TaskRevokedError < TaskError
    # @param task [Cyme::Task]
    # @param request_method [String]
    # @param request_url [String]
    def initialize(task:, request_method:, request_url:)
      message = task.result.is_a?(Hash) ? task.result["exc_message"] : nil
      reason = message.is_a?(Array) && !message.empty? ? message.first.to_s : nil
      super("Task #{task.id} was revoked#{" (#{reason})" if reason}", task:, reason:, request_method:, request_url:)
    end
  end
end
