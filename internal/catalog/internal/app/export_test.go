package app

// Validate checks a product input as CreateProduct does (for the demo
// catalog's tests, which are in package app_test).
func Validate(in ProductInput) error {
	_, err := in.draft()
	return err
}

// OnCacheMiss sets the hook called when a product read missed the cache,
// so a test can wait for a burst of readers instead of sleeping.
func (s *Service) OnCacheMiss(f func()) { s.cacheMissed = f }
