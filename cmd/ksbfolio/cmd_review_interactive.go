package main

func runInteractive(g *globals, o reviewOptions) error {
	return usageErrorf("review -i is not built yet")
}
