package passwordprotected

func thresholdsForTest() any { return nil }
