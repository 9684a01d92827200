package tagging

// BuiltinYAMLForTest exposes the embedded rules file to the black-box tests.
func BuiltinYAMLForTest() []byte { return builtinYAML }
