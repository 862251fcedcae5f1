package machine

// ADCMax is the ESP8266 ADC's full scale: ADC(0).read() returns 0..1024.
const ADCMax = 1024

// SetADC sets what the A0 input reads (clamped to 0..ADCMax): a
// potentiometer or light sensor's level.
func (h *Hardware) SetADC(v int) {
	v = min(max(v, 0), ADCMax)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.adc = v
}

// ReadADC is ADC(0).read().
func (h *Hardware) ReadADC() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.adc
}
