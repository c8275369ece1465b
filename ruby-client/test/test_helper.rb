# frozen_string_literal: true

require "minitest/autorun"
require "fileutils"
require "net/http"
require "securerandom"
require "socket"
require "tmpdir"
require "cyme"

require_relative "live_branch"

# The branches of the tests (LiveBranch), stopped when the run ends.
module Branch
  class << self
    # The shared branch, with fault injection, started on first use.
    def url
      @url ||= start("--allow-fault-injection")
    end

    # Starts a branch with the given command-line options; returns its URL.
    def start(*options, id: "b-#{SecureRandom.hex(4)}")
      branch = LiveBranch.new(id:, args: options).start
      at_exit { branch.close }
      branch.url
    end
  end
end

# The standard libraries whose RBS signatures sig/ uses (as `rake typecheck`).
RBS_LIBRARIES = %w[monitor logger net-http openssl timeout socket uri json securerandom time].freeze

# Helpers for tests against the shared branch.
module BranchTest
  def client(**options)
    Cyme::Client.new(Branch.url, **options)
  end

  # A fresh app name, so tests never share state.
  def unique(prefix = "t")
    "#{prefix}-#{SecureRandom.hex(6)}"
  end

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # The local ports of the TCP connections that this process holds open to
  # the branch at url (on 127.0.0.1), sorted: the client's connections seen
  # from outside it, in /proc (Linux) as ss(8) sees them. A socket this
  # process has closed is not there, even while its copy in another process
  # keeps the connection open.
  def connection_ports(url)
    remote = format("0100007F:%04X", URI(url).port)
    File.foreach("/proc/self/net/tcp").drop(1).filter_map do |line|
      _, local, peer, *, inode = line.split.first(10)
      Integer(local.split(":").last, 16) if peer == remote && own_sockets.include?(inode)
    end.sort
  end

  # The inodes of the sockets among this process's file descriptors.
  def own_sockets
    Dir.children("/proc/self/fd").filter_map do |fd|
      File.readlink("/proc/self/fd/#{fd}")[/\Asocket:\[(\d+)\]\z/, 1]
    rescue SystemCallError
      nil # closed since it was listed (the listing's own descriptor, for one)
    end
  end
end
