# frozen_string_literal: true

module Cyme
  # The gem's version; sent in the User-Agent header.
  VERSION = "1.0.0"
end
