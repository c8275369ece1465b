# frozen_string_literal: true

module Cyme
  # What Client#with_raw_response returns: the block's value, and the last
  # HTTP response the block's calls received.
  #
  #   raw = cyme.with_raw_response { cyme.apps.get("pycon") }
  #   raw.data          # => #<Cyme::App http://localhost:8000/pycon>
  #   raw.status        # => 200
  #   raw.request_id    # => "5f0c6b1e..."
  class RawResponse
    # @return [Object] the block's value
    attr_reader :data
    # @return [Integer] the HTTP status, such as 200, 201 or 202
    attr_reader :status
    # @return [Hash{String => String}] the response's headers, lowercase names
    attr_reader :headers
    # @return [String] the request's method, such as "GET" (as APIError#request_method)
    attr_reader :request_method
    # @return [String] the request's URL, without credentials or query string
    #   (as APIError#request_url)
    attr_reader :request_url

    # @param data [Object]
    # @param status [Integer]
    # @param headers [Hash{String => String}] lowercase names
    # @param request_method [String]
    # @param request_url [String]
    def initialize(data:, status:, headers:, request_method:, request_url:)
      @data = data
      @status = status
      @headers = headers
      @request_method = request_method
      @request_url = request_url
    end

    # @return [String, nil] the response's X-Request-Id, to find it in the branch's log
    def request_id = headers["x-request-id"]

    # @return [String] "#<Cyme::RawResponse GET http://localhost:8000/pycon -> 200>"
    def inspect = "#<#{self.class.name} #{request_method} #{request_url} -> #{status}>"
  end
end
