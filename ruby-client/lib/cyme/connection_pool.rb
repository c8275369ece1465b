# frozen_string_literal: true

require "net/http"

module Cyme
  # One kept-alive Net::HTTP connection to a branch, behind a mutex: one
  # request at a time. A client's threads share it, and so do the clients
  # that Client#with_options makes from that client, which is why every
  # request brings its own timeouts instead of the connection keeping one.
  class Connection
    # @param uri [URI::HTTP] the branch
    def initialize(uri)
      @uri = uri
      @mutex = Mutex.new
      @http = nil
    end

    # Sends one request, opening the connection first when it is not open.
    # No retry here: Transport decides that.
    #
    # @param request [Net::HTTPGenericRequest]
    # @param timeout [Float] seconds to wait for the response (read and write)
    # @param open_timeout [Float] seconds to wait for the connection, when
    #   this request has to open it
    # @return [Net::HTTPResponse]
    def request(request, timeout:, open_timeout:)
      @mutex.synchronize { perform(request, timeout, open_timeout) }
    end

    # Closes the connection; the next request opens a new one.
    #
    # @return [void]
    def close
      @mutex.synchronize { reset }
    end

    # @return [String]
    def inspect = "#<#{self.class.name} #{@uri}>"

    private

    # Runs under the mutex. The timeouts are set on every request: on an
    # open connection Net::HTTP passes them to its socket at once, and the
    # open timeout also serves when Net::HTTP reopens a connection that was
    # idle too long.
    def perform(request, timeout, open_timeout)
      http = connection
      http.open_timeout = open_timeout
      http.read_timeout = timeout
      http.write_timeout = timeout
      http.start unless http.started?
      http.request(request)
    rescue Exception # rubocop:disable Lint/RescueException -- any failure, even an interrupt, leaves the connection unusable
      reset
      raise
    end

    def connection
      return @http if @http

      http = Net::HTTP.new(@uri.host, @uri.port)
      http.use_ssl = @uri.scheme == "https"
      http.keep_alive_timeout = 30
      # Net::HTTP would silently retry some requests once; the retries are
      # Transport's alone, so that they are counted, logged and spaced.
      http.max_retries = 0
      @http = http
    end

    def reset
      @http&.finish if @http&.started?
    rescue IOError
      nil
    ensure
      @http = nil
    end
  end
end
