# frozen_string_literal: true

require "logger"
require "stringio"
require "test_helper"

# A branch that serves HTTPS (--tls-cert, --tls-key), with a certificate of
# a throwaway CA that the system does not know: verify: and ca_file:.
class TlsTest < Minitest::Test
  class << self
    # One branch for the file: certificates, then the branch, made on first use.
    def branch
      @branch ||= begin
        dir = Dir.mktmpdir("cyme-tls-")
        certificates = LiveBranch.certificates(dir)
        live = LiveBranch.new(tls: certificates).start
        at_exit do
          live.close
          FileUtils.rm_rf(dir)
        end
        [live, certificates]
      end
    end
  end

  def url = self.class.branch[0].url

  def ca = self.class.branch[1].ca

  def test_ca_file_verifies_the_branch
    assert_match(%r{\Ahttps://127\.0\.0\.1:\d+\z}, url)
    cyme = Cyme::Client.new(url, ca_file: ca)
    assert_equal "pong", cyme.ping
    assert_equal "pong", cyme.with_options(timeout: 5.0, max_retries: 0).ping
    assert_equal "pong", Cyme::Client.new(url.sub("127.0.0.1", "localhost"), ca_file: ca).ping
  ensure
    cyme&.close
  end

  def test_by_default_an_unknown_ca_fails_clearly_at_once
    cyme = Cyme::Client.new(url, max_retries: 2)
    error = assert_raises(Cyme::APIConnectionError) { cyme.ping }
    assert_instance_of Cyme::APIConnectionError, error
    assert_match(/TLS certificate could not be verified \(.*issuer.*\)/, error.message)
    assert_includes error.message, "ca_file:"
    assert_nil error.cause
    # Not retried: an attempt logs one line, a retry another.
    log = StringIO.new
    assert_raises(Cyme::APIConnectionError) { Cyme::Client.new(url, logger: Logger.new(log)).ping }
    assert_equal(1, log.string.lines.count { |line| line.include?("GET /ping") })
  end

  def test_verify_false_turns_the_check_off
    assert_equal "pong", Cyme::Client.new(url, verify: false).ping
  end

  def test_plain_http_to_the_branch_fails_clearly
    cyme = Cyme::Client.new(url.sub("https://", "http://"), max_retries: 0)
    error = assert_raises(Cyme::APIConnectionError) { cyme.ping }
    assert_instance_of Cyme::APIConnectionError, error
    assert_includes error.message, "https://"
  end

  def test_contradictory_or_missing_ca_file_is_refused_at_once
    assert_raises(ArgumentError) { Cyme::Client.new(url, verify: false, ca_file: ca) }
    error = assert_raises(ArgumentError) { Cyme::Client.new(url, ca_file: "#{ca}.missing") }
    assert_includes error.message, "#{ca}.missing"
  end

  def test_tls_settings_do_not_touch_an_http_branch
    assert_equal "pong", Cyme::Client.new(Branch.url, verify: false).ping
    assert_equal "pong", Cyme::Client.new(Branch.url, ca_file: ca).ping
  end
end
