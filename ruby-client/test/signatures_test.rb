# frozen_string_literal: true

require "test_helper"
require "rbs"

# Every public method of the gem has an RBS signature in sig/.
class SignaturesTest < Minitest::Test
  SIG = File.expand_path("../sig", __dir__)
  # What Struct.new defines on the classes it makes.
  STRUCT_METHODS = %i[new [] members keyword_init? inspect].freeze

  def builder
    loader = RBS::EnvironmentLoader.new
    RBS_LIBRARIES.each { |library| loader.add(library: library) }
    loader.add(path: Pathname(SIG))
    RBS::DefinitionBuilder.new(env: RBS::Environment.from_loader(loader).resolve_type_names)
  end

  def gem_classes
    queue = [Cyme]
    found = []
    until queue.empty?
      mod = queue.shift
      found << mod
      nested = mod.constants(false).map { |name| mod.const_get(name) }.grep(Module)
      queue.concat(nested.select { |m| m.name&.start_with?("Cyme") })
    end
    found.uniq.grep(Class)
  end

  def test_every_public_method_has_a_signature
    definitions = builder
    missing = gem_classes.flat_map do |klass|
      type = RBS::TypeName.new(name: klass.name.split("::").last.to_sym,
                               namespace: RBS::Namespace.parse("::#{klass.name.split('::')[0..-2].join('::')}"))
      instance = definitions.build_instance(type).methods.keys
      singleton = definitions.build_singleton(type).methods.keys
      (klass.public_instance_methods(false) - instance).map { |m| "#{klass}##{m}" } +
        (klass.singleton_methods(false) - singleton - STRUCT_METHODS).map { |m| "#{klass}.#{m}" }
    end
    assert_empty missing, "methods without a signature in sig/"
  end

  # sig/cyme/routes.rbs, generated from openapi.yaml, types Client#call of
  # every operation: its keywords are those Client#call takes, the path
  # parameters required (and the body fields the spec requires, such as
  # applyDeclarations' declarations), and its answer is the route's model.
  def test_call_has_an_overload_per_operation
    client = RBS::TypeName.new(name: :Client, namespace: RBS::Namespace.parse("::Cyme"))
    overloads = builder.build_instance(client).methods.fetch(:call).method_types.map(&:type)
    by_id = overloads.to_h { |type| [type.required_positionals.first.type.literal, type] }
    assert_equal Cyme::ROUTES.keys, by_id.keys
    Cyme::ROUTES.each do |id, route|
      type = by_id.fetch(id)
      body = (route.body_fields || []).map(&:to_sym)
      assert_equal route.path_params.map(&:to_sym), type.required_keywords.keys - body, id
      keywords = type.required_keywords.keys + type.optional_keywords.keys
      assert_equal Cyme::Requestor::KEYWORDS.fetch(id).sort, keywords.sort, id
      route.response.split("|").map { |kind| kind.delete_suffix("[]") }.grep(/\A[A-Z]/).each do |model|
        assert_includes type.return_type.to_s, "::Cyme::Models::#{model}", id
      end
    end
  end

  def test_sig_mirrors_lib
    lib = Dir.chdir(File.expand_path("../lib", __dir__)) { Dir["**/*.rb"].map { |f| f.delete_suffix(".rb") } }
    sig = Dir.chdir(SIG) { Dir["**/*.rbs"].map { |f| f.delete_suffix(".rbs") } }
    assert_equal lib.sort, sig.sort
  end
end
