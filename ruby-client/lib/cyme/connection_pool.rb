# frozen_string_literal: true

require "net/http"

module Cyme
  # The kept-alive Net::HTTP connections to one branch, shared by the
  # threads of a client and by the clients that Client#with_options makes
  # from it. A request takes the idle connection used last, or opens one
  # when all are busy, and gives it back once its response is read: threads
  # never wait for each other's requests, and there are never more
  # connections than requests that were in flight at once. Every request
  # brings its own timeouts, since clients with other settings share the
  # connections.
  #
  # Why a pool and not a connection per thread (stripe-ruby keeps a
  # connection manager per thread):
  #
  # - A thread owns no connection, so a thread that ends leaves none behind:
  #   the next thread reuses it, warm. With a connection per thread, every
  #   short-lived thread (a thread per job) opens one, and those of dead
  #   threads stay open: a map keyed by thread needs a sweep for them
  #   (stripe-ruby added one after sockets of disposable threads piled up in
  #   CLOSE_WAIT), and thread-locals keyed by the transport live as long as
  #   their thread, even once the client is gone, out of reach of #close.
  # - Under a fiber scheduler, many requests share one thread: a connection
  #   per thread would interleave them on one socket. The pool gives each
  #   request its own connection, and its Mutex is per fiber.
  # - #close, from any thread, closes the idle connections at once and the
  #   busy ones when their responses have arrived, never a socket under a
  #   request.
  #
  # After a fork the child never touches its parent's connections: its
  # first request (or #close) drops them, closing only the child's copies of
  # their file descriptors, which sends nothing (no FIN, not even a TLS
  # close_notify), and opens its own.
  class ConnectionPool
    # Seconds a connection may stay idle: Net::HTTP reconnects one idle for
    # longer anyway (keep_alive_timeout), and when a connection comes back
    # the pool closes those idle for longer, so that the connections a burst
    # of threads opened do not stay open for ever.
    IDLE_TIMEOUT = 30

    # A connection, the #close (or fork) generation that opened it, and
    # since when it is idle (monotonic seconds).
    Slot = Struct.new(:http, :generation, :idle_since)

    # An https branch's certificate is verified against the system's CAs
    # (OpenSSL's default paths, SSL_CERT_FILE), or against those of ca_file
    # instead, such as the CA that signed a branch's own certificate; with
    # verify: false it is not verified at all, which is for tests: anyone
    # between the client and the branch could then read and change the
    # requests, token included. The same options as the Python SDK's.
    #
    # @param uri [URI::HTTP] the branch
    # @param verify [Boolean] whether to verify an https branch's certificate
    # @param ca_file [String, nil] a PEM file of the CAs to verify it with
    def initialize(uri, verify: true, ca_file: nil)
      raise ArgumentError, "ca_file: is a CA to verify the branch with: not with verify: false" if ca_file && !verify
      raise ArgumentError, "ca_file: cannot read #{ca_file}" if ca_file && !File.file?(ca_file.to_s)

      @uri = uri
      @verify = verify
      @ca_file = ca_file&.to_s
      @mutex = Mutex.new
      @idle = [] # the connection used last at the end
      @generation = 0
      @pid = Process.pid
    end

    # @return [Hash{Symbol => Object}] verify: and ca_file:, for the pool of another branch
    def tls_settings = { verify: @verify, ca_file: @ca_file }

    # Sends one request on an idle connection, or on a new one when every
    # connection is busy. No retry here: Transport decides that.
    #
    # @param request [Net::HTTPGenericRequest]
    # @param timeout [Float] seconds to wait for the response (read and write)
    # @param open_timeout [Float] seconds to wait for the connection, when
    #   this request has to open it
    # @return [Net::HTTPResponse]
    def request(request, timeout:, open_timeout:)
      slot = checkout
      response = perform(slot.http, request, timeout, open_timeout)
      checkin(slot)
      response
    ensure
      # Any failure, even an interrupt or Thread#kill, may leave a request
      # half sent or a response half read: that connection is not reused.
      finish(slot.http) if slot && !response
    end

    # Closes every connection, every thread's: the idle ones now, the busy
    # ones as their responses arrive. The next request opens a new one.
    #
    # @return [void]
    def close
      idle = @mutex.synchronize do
        drop_inherited unless @pid == Process.pid
        @generation += 1
        @idle.slice!(0..)
      end
      idle.each { |slot| finish(slot.http) }
    end

    # @return [String]
    def inspect = "#<#{self.class.name} #{@uri} idle=#{@idle.size}>"

    private

    def checkout
      @mutex.synchronize do
        drop_inherited unless @pid == Process.pid
        @idle.pop || Slot.new(new_http, @generation, nil)
      end
    end

    # Puts a connection back, unless #close came in the meantime, and
    # closes those idle for longer than IDLE_TIMEOUT.
    def checkin(slot)
      now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      stale = @mutex.synchronize do
        next [slot] unless slot.generation == @generation

        slot.idle_since = now
        @idle.push(slot)
        take_stale(now - IDLE_TIMEOUT)
      end
      stale&.each { |old| finish(old.http) }
    end

    # Under the mutex: takes out the connections idle since before the
    # limit, the oldest first in @idle (none, mostly: nothing to allocate).
    def take_stale(limit)
      return if @idle.first.idle_since >= limit

      @idle.shift(@idle.index { |slot| slot.idle_since >= limit } || @idle.size)
    end

    # The timeouts are set on every request: on an open connection Net::HTTP
    # passes them to its socket at once, and the open timeout also serves
    # when Net::HTTP reopens a connection that was idle too long.
    def perform(http, request, timeout, open_timeout)
      http.open_timeout = open_timeout
      http.read_timeout = timeout
      http.write_timeout = timeout
      http.start unless http.started?
      http.request(request)
    end

    def new_http
      http = Net::HTTP.new(@uri.host, @uri.port)
      http.use_ssl = @uri.scheme == "https"
      tls(http) if http.use_ssl?
      http.keep_alive_timeout = IDLE_TIMEOUT
      # Net::HTTP would silently retry some requests once; the retries are
      # Transport's alone, so that they are counted, logged and spaced.
      http.max_retries = 0
      http
    end

    # OpenSSL loads here, with the first https connection (see
    # Transport::CONNECTION_ERRORS).
    def tls(http)
      http.verify_mode = @verify ? OpenSSL::SSL::VERIFY_PEER : OpenSSL::SSL::VERIFY_NONE
      http.ca_file = @ca_file if @ca_file
    end

    def finish(http)
      http.finish if http.started?
    rescue IOError, SystemCallError
      nil
    end

    # In a process forked since the connections were opened, under the
    # mutex: forgets the parent's connections, closing this process's copy
    # of each idle one's socket. The busy ones belonged to threads that the
    # fork did not copy; the garbage collector closes their copies just as
    # quietly.
    def drop_inherited
      @idle.each { |slot| close_descriptor(slot.http) }
      @idle.clear
      @generation += 1
      @pid = Process.pid
    end

    # Closes the file descriptor under a connection and nothing else:
    # Net::HTTP#finish would send a TLS close_notify on the parent's session,
    # and a plain close(2) sends nothing while another process holds the
    # socket. Net::HTTP keeps its socket in @socket, a Net::BufferedIO whose
    # #io is the TCP or TLS socket (#to_io of a TLS socket is its TCP socket).
    def close_descriptor(http)
      socket = http.instance_variable_get(:@socket)
      socket.io.to_io.close if socket.respond_to?(:io)
    rescue IOError, SystemCallError
      nil
    end
  end
end
