package passwordpolicy

func thresholdsForTest() any { return DefaultThresholds() }
