package ratelimit_test

import "os"

func testingCI() bool { return os.Getenv("CI") == "true" }
