# frozen_string_literal: true

require "test_helper"

# Threads sharing one client, and the clients its #with_options makes: each
# request takes a connection of its own from the client's pool. The tests
# see the connections from outside, as the ones this process holds open to
# a branch of their own (connection_ports, from /proc), and every client
# they make is closed when they end, so that none counts in another test.
class ThreadsTest < Minitest::Test
  include BranchTest

  class << self
    def url = @url ||= Branch.start("--allow-fault-injection")
  end

  def setup
    skip "needs /proc (Linux)" unless File.exist?("/proc/self/net/tcp")
    @clients = []
  end

  def teardown
    @clients&.each(&:close)
  end

  # Every answer belongs to its request: each thread makes an app and an
  # instance of its own and reads them back, through the shared client or a
  # client made from it by with_options.
  def test_many_threads_each_get_the_answers_to_their_own_requests
    cyme = own_client(max_retries: 0)
    threads = Array.new(16) do |index|
      Thread.new do
        mine = index.even? ? cyme : cyme.with_options(timeout: 10.0)
        app = mine.add(unique("thread#{index}"))
        instance = app.instances.add("w#{index}")
        answers = Array.new(20) { [mine.get(app.name).name, app.instances.get(instance.name).name] }
        [app.delete.name, instance.name, answers]
      end
    end
    threads.map(&:value).each { |app, instance, answers| assert_equal [[app, instance]] * 20, answers }
    # No more connections than requests in flight at once.
    assert_operator connection_ports(url).size, :<=, 16
  end

  # A thread owns no connection: one that ends leaves its connection to the
  # next, and the process holds one connection however many threads came
  # and went.
  def test_threads_that_end_leave_their_connection_to_the_next
    cyme = own_client
    seen = Array.new(20) { Thread.new { cyme.ping && connection_ports(url) }.value }
    assert_equal 1, seen.first.size
    assert_equal [seen.first] * 20, seen
  end

  # A thread killed while it waits for its response leaves a connection on
  # which that response is still to come: it is closed, not given to the
  # next request, which would read the answer meant for the killed one.
  def test_a_thread_killed_in_a_request_leaves_no_connection_behind
    cyme = own_client(max_retries: 0)
    slow = cyme.add(unique("slow"))
    fast = cyme.add(unique("fast"))
    thread = Thread.new { fault(cyme, "delay=2") { cyme.get(slow.name) } }
    wait_for_response(thread)
    thread.kill.join
    assert_empty connection_ports(url)
    assert_equal fast.name, cyme.get(fast.name).name
  ensure
    [slow, fast].compact.each(&:delete)
  end

  # #close from another thread closes every thread's connections: the idle
  # ones at once, the one under a request when its response has arrived.
  # That request gets its answer, and the next one opens a new connection.
  def test_close_from_another_thread
    cyme = own_client(max_retries: 0)
    app = cyme.add(unique)
    busy_port = connection_ports(url)
    busy = Thread.new { fault(cyme, "delay=5") { cyme.get(app.name).name } }
    wait_for_response(busy)
    Thread.new { cyme.ping }.join # a second connection, left idle
    assert_equal 2, connection_ports(url).size
    Thread.new { cyme.close }.join
    assert_equal busy_port, connection_ports(url)
    assert_equal app.name, busy.value
    assert_empty connection_ports(url)
    cyme.ping
    refute_equal busy_port, connection_ports(url)
  ensure
    app&.delete
  end

  # The clients made by with_options, and those made from them, use the
  # connections of the client they come from; #close on any closes them.
  def test_clients_made_by_with_options_share_the_connections
    cyme = own_client
    patient = cyme.with_options(timeout: 60.0)
    once = patient.with_options(max_retries: 0)
    seen = [cyme, patient, once, cyme].map { |client| client.ping && connection_ports(url) }
    assert_equal 1, seen.first.size
    assert_equal [seen.first] * 4, seen
    once.close
    assert_empty connection_ports(url)
    patient.ping
    assert_equal 1, connection_ports(url).size
  end

  # A burst of threads opens a connection per request in flight; once idle
  # for IDLE_TIMEOUT seconds, they are closed as requests end.
  def test_connections_idle_for_too_long_are_closed
    with_idle_timeout(0.5) do
      cyme = own_client
      app = cyme.add(unique)
      burst = Array.new(4) { Thread.new { fault(cyme, "delay=1") { cyme.get(app.name) } } }
      burst.each(&:join)
      assert_equal 4, connection_ports(url).size
      sleep 0.6
      cyme.ping
      assert_equal 1, connection_ports(url).size
    ensure
      app&.delete
    end
  end

  # A child process never uses its parent's connections: it drops the ones
  # it inherited, sending nothing on them, and opens its own. Both get
  # their answers, the parent still on its connection of before the fork.
  def test_a_forked_child_opens_its_own_connection
    cyme = own_client(max_retries: 0)
    app = cyme.add(unique)
    before = connection_ports(url)
    inherited, answers, child = in_child do
      [connection_ports(url), [cyme.get(app.name).name, app.instances.add("child").name], connection_ports(url)]
    end
    assert_equal [before, [app.name, "child"]], [inherited, answers]
    assert_equal 1, child.size
    refute_equal before, child
    assert_equal ["child"], app.instances.all_names
    assert_equal before, connection_ports(url)
  ensure
    app&.delete
  end

  private

  def url = self.class.url

  def own_client(**options)
    Cyme::Client.new(url, **options).tap { |client| @clients << client }
  end

  def fault(cyme, value, &)
    cyme.with_headers("Cyme-Fault" => "#{value}; id=#{SecureRandom.hex(8)}", &)
  end

  # Waits until the thread is reading the response to a request it sent.
  def wait_for_response(thread)
    deadline = monotonic + 20
    until thread.backtrace&.any? { |line| line.include?("read_status_line") }
      flunk "the thread did not wait for a response" if !thread.alive? || monotonic > deadline
      sleep 0.01
    end
  end

  def with_idle_timeout(seconds)
    default = Cyme::ConnectionPool::IDLE_TIMEOUT
    set_idle_timeout(seconds)
    yield
  ensure
    set_idle_timeout(default) if default
  end

  def set_idle_timeout(seconds)
    Cyme::ConnectionPool.__send__(:remove_const, :IDLE_TIMEOUT)
    Cyme::ConnectionPool.const_set(:IDLE_TIMEOUT, seconds)
  end

  # The block's value in a forked child (Marshal'd back), or its error.
  def in_child
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      result = begin
        [:ok, yield]
      rescue Exception => e # rubocop:disable Lint/RescueException -- the child reports everything and exits
        [:error, e.full_message]
      end
      writer.write(Marshal.dump(result))
      writer.close
      exit!(0) # neither the tests' at_exit nor the branches' stop run in the child
    end
    writer.close
    status, value = Marshal.load(reader.read) # rubocop:disable Security/MarshalLoad -- from our own child
    Process.wait(pid)
    flunk "in the child: #{value}" unless status == :ok
    value
  ensure
    reader&.close
  end
end
