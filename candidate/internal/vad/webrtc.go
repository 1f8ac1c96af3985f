// Package vad finds speech in 16 kHz mono PCM as legacy/speech/vad.py does: WebRTC's voice
// activity detector judges 30 ms frames, and a hysteresis over a sliding window turns the noisy
// verdicts into speech segments (segment.go).
//
// The classifier (this file) is a port to Go of the fixed-point GMM VAD in WebRTC's
// common_audio/vad (vad_core.c, vad_filterbank.c, vad_gmm.c, vad_sp.c, webrtc_vad.c) and the
// signal-processing helpers it calls, as py-webrtcvad 2.0.14 ships it. It is integer
// arithmetic throughout, so each frame's verdict is the C code's exactly; every int16_t store
// of the C code is an int16 conversion here (wrapping as C does), every product is int32.
//
// WebRTC's VAD is Copyright (c) 2011-2012, The WebRTC project authors. All rights reserved.
// It is distributed under the BSD 3-clause license:
//
// Redistribution and use in source and binary forms, with or without modification, are
// permitted provided that the following conditions are met: Redistributions of source code
// must retain the above copyright notice, this list of conditions and the following
// disclaimer. Redistributions in binary form must reproduce the above copyright notice, this
// list of conditions and the following disclaimer in the documentation and/or other materials
// provided with the distribution. Neither the name of Google nor the names of its
// contributors may be used to endorse or promote products derived from this software without
// specific prior written permission. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND
// CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO,
// THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
// DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY
// DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT
// NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS;
// OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
// CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY
// OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
package vad

import "fmt"

const (
	numChannels  = 6 // frequency bands
	numGaussians = 2 // per band
	tableSize    = numChannels * numGaussians
	minEnergy    = 10
)

var (
	spectrumWeight    = [numChannels]int16{6, 8, 10, 12, 14, 16}
	minimumDifference = [numChannels]int16{544, 544, 576, 576, 576, 576}
	maximumSpeech     = [numChannels]int16{11392, 11392, 11520, 11520, 11520, 11520}
	minimumMean       = [numGaussians]int16{640, 768}
	maximumNoise      = [numChannels]int16{9216, 9088, 8960, 8832, 8704, 8576}
	noiseDataWeights  = [tableSize]int16{34, 62, 72, 66, 53, 25, 94, 66, 56, 62, 75, 103}
	speechDataWeights = [tableSize]int16{48, 82, 45, 87, 50, 47, 80, 46, 83, 41, 78, 81}
	noiseDataMeans    = [tableSize]int16{6738, 4892, 7065, 6715, 6771, 3369, 7646, 3863, 7820, 7266, 5020, 4362}
	speechDataMeans   = [tableSize]int16{8306, 10085, 10078, 11823, 11843, 6309, 9473, 9571, 10879, 7581, 8180, 7483}
	noiseDataStds     = [tableSize]int16{378, 1064, 493, 582, 688, 593, 474, 697, 475, 688, 421, 455}
	speechDataStds    = [tableSize]int16{555, 505, 567, 524, 585, 1231, 509, 828, 492, 1540, 1079, 850}
)

const (
	noiseUpdateConst  = 655  // Q15
	speechUpdateConst = 6554 // Q15
	backEta           = 154  // Q8
	maxSpeechFrames   = 6
	minStd            = 384
)

// modeTable is one aggressiveness mode's constants, per frame length (10, 20, 30 ms).
type modeTable struct {
	overHangMax1, overHangMax2, individual, total [3]int16
}

var modes = [4]modeTable{
	{[3]int16{8, 4, 3}, [3]int16{14, 7, 5}, [3]int16{24, 21, 24}, [3]int16{57, 48, 57}},      // quality
	{[3]int16{8, 4, 3}, [3]int16{14, 7, 5}, [3]int16{37, 32, 37}, [3]int16{100, 80, 100}},    // low bitrate
	{[3]int16{6, 3, 2}, [3]int16{9, 5, 3}, [3]int16{82, 78, 82}, [3]int16{285, 260, 285}},    // aggressive
	{[3]int16{6, 3, 2}, [3]int16{9, 5, 3}, [3]int16{94, 94, 94}, [3]int16{1100, 1050, 1100}}, // very aggressive
}

// Classifier is one stream's WebRTC VAD (webrtcvad.Vad): it keeps state from frame to frame,
// so frames must be given in order. Not safe for concurrent use.
type Classifier struct {
	mode            modeTable
	downsampleState [2]int32
	noiseMeans      [tableSize]int16
	speechMeans     [tableSize]int16
	noiseStds       [tableSize]int16
	speechStds      [tableSize]int16
	frameCounter    int32
	overHang        int16
	numOfSpeech     int16
	indexVector     [16 * numChannels]int16
	lowValueVector  [16 * numChannels]int16
	meanValue       [numChannels]int16
	upperState      [5]int16
	lowerState      [5]int16
	hpFilterState   [4]int16
}

// NewClassifier is webrtcvad.Vad(mode): mode 0 (least) to 3 (most aggressive about calling a
// frame non-speech).
func NewClassifier(mode int) (*Classifier, error) {
	if mode < 0 || mode > 3 {
		return nil, fmt.Errorf("vad: mode %d is not 0 to 3", mode)
	}
	c := &Classifier{mode: modes[mode]}
	c.noiseMeans, c.speechMeans = noiseDataMeans, speechDataMeans
	c.noiseStds, c.speechStds = noiseDataStds, speechDataStds
	for i := range c.lowValueVector {
		c.lowValueVector[i] = 10000
	}
	for i := range c.meanValue {
		c.meanValue[i] = 1600
	}
	return c, nil
}

// FrameSamples is the one frame length this package judges: 30 ms at 16 kHz.
const FrameSamples = 480

// IsSpeech is webrtcvad's is_speech(frame, 16000) for one 30 ms frame of 16 kHz samples.
func (c *Classifier) IsSpeech(frame []int16) bool {
	if len(frame) != FrameSamples {
		panic(fmt.Sprintf("vad: a frame is %d samples, not %d", FrameSamples, len(frame)))
	}
	var nb [FrameSamples / 2]int16
	downsample(frame, nb[:], &c.downsampleState)
	var features [numChannels]int16
	total := c.calculateFeatures(nb[:], &features)
	return c.gmmProbability(&features, total) > 0
}

func mul16(a, b int16) int32 { return int32(a) * int32(b) }

// downsample is WebRtcVad_Downsampling: halve the rate with two all-pass filters.
func downsample(in, out []int16, state *[2]int32) {
	const coef0, coef1 = 5243, 1392 // Q13
	s1, s2 := state[0], state[1]
	for n := 0; n < len(in)/2; n++ {
		t1 := int16((s1 >> 1) + (mul16(coef0, in[2*n]) >> 14))
		out[n] = t1
		s1 = int32(in[2*n]) - (mul16(coef0, t1) >> 12)
		t2 := int16((s2 >> 1) + (mul16(coef1, in[2*n+1]) >> 14))
		out[n] += t2
		s2 = int32(in[2*n+1]) - (mul16(coef1, t2) >> 12)
	}
	state[0], state[1] = s1, s2
}

var offsetVector = [numChannels]int16{368, 368, 272, 176, 176, 176}

// calculateFeatures is WebRtcVad_CalculateFeatures: the log energies of six bands of an
// 8 kHz frame (a split-filter tree), and the frame's total energy.
func (c *Classifier) calculateFeatures(in []int16, features *[numChannels]int16) int16 {
	var total int16
	var hp120, lp120 [120]int16
	var hp60, lp60 [60]int16
	half := len(in) >> 1
	length := half

	splitFilter(in, &c.upperState[0], &c.lowerState[0], hp120[:half], lp120[:half])
	splitFilter(hp120[:length], &c.upperState[1], &c.lowerState[1], hp60[:length>>1], lp60[:length>>1])
	length >>= 1
	logOfEnergy(hp60[:length], offsetVector[5], &total, &features[5])
	logOfEnergy(lp60[:length], offsetVector[4], &total, &features[4])

	length = half
	splitFilter(lp120[:length], &c.upperState[2], &c.lowerState[2], hp60[:length>>1], lp60[:length>>1])
	length >>= 1
	logOfEnergy(hp60[:length], offsetVector[3], &total, &features[3])

	splitFilter(lp60[:length], &c.upperState[3], &c.lowerState[3], hp120[:length>>1], lp120[:length>>1])
	length >>= 1
	logOfEnergy(hp120[:length], offsetVector[2], &total, &features[2])

	splitFilter(lp120[:length], &c.upperState[4], &c.lowerState[4], hp60[:length>>1], lp60[:length>>1])
	length >>= 1
	logOfEnergy(hp60[:length], offsetVector[1], &total, &features[1])

	highPassFilter(lp60[:length], &c.hpFilterState, hp120[:length])
	logOfEnergy(hp120[:length], offsetVector[0], &total, &features[0])
	return total
}

func highPassFilter(in []int16, state *[4]int16, out []int16) {
	zero := [3]int32{6631, -13262, 6631}
	pole := [3]int32{16384, -7756, 5620}
	for i, x := range in {
		t := zero[0] * int32(x)
		t += zero[1] * int32(state[0])
		t += zero[2] * int32(state[1])
		state[1] = state[0]
		state[0] = x
		t -= pole[1] * int32(state[2])
		t -= pole[2] * int32(state[3])
		state[3] = state[2]
		state[2] = int16(t >> 14)
		out[i] = state[2]
	}
}

// allPassFilter reads every second sample of in (from its first), len(out) of them.
func allPassFilter(in []int16, coef int16, state *int16, out []int16) {
	s := int32(*state) << 16
	for i := range out {
		x := in[2*i]
		t := s + mul16(coef, x)
		t16 := int16(t >> 16)
		out[i] = t16
		s = int32(x) << 14
		s -= mul16(coef, t16)
		s <<= 1
	}
	*state = int16(s >> 16)
}

func splitFilter(in []int16, upper, lower *int16, hp, lp []int16) {
	allPassFilter(in, 20972, upper, hp)
	allPassFilter(in[1:], 5571, lower, lp)
	for i := range hp {
		t := hp[i]
		hp[i] -= lp[i]
		lp[i] += t
	}
}

func logOfEnergy(in []int16, offset int16, total *int16, logEnergy *int16) {
	const logConst = 24660         // 160*log10(2) in Q9
	const logEnergyIntPart = 14336 // 14 in Q10
	energy32, rshifts := energy(in)
	e := uint32(energy32)
	if e == 0 {
		*logEnergy = offset
		return
	}
	normalizing := 17 - int(normU32(e))
	log2Energy := int16(logEnergyIntPart)
	rshifts += normalizing
	if normalizing < 0 {
		e <<= uint(-normalizing)
	} else {
		e >>= uint(normalizing)
	}
	log2Energy += int16((e & 0x3FFF) >> 4)
	v := int16((mul16(logConst, log2Energy) >> 19) + (mul16(int16(rshifts), logConst) >> 9))
	if v < 0 {
		v = 0
	}
	*logEnergy = v + offset
	if *total <= minEnergy {
		if rshifts >= 0 {
			*total += minEnergy + 1
		} else {
			*total += int16(e >> uint(-rshifts))
		}
	}
}

// energy is WebRtcSpl_Energy: the sum of squares, each shifted right to avoid overflow, and
// the shift.
func energy(in []int16) (int32, int) {
	scaling := int(scalingSquare(in, len(in)))
	var en int32
	for _, x := range in {
		en += mul16(x, x) >> uint(scaling)
	}
	return en, scaling
}

func scalingSquare(in []int16, times int) int16 {
	nbits := sizeInBits(uint32(times))
	smax := int16(-1)
	for _, x := range in {
		var sabs int16
		if x > 0 {
			sabs = x
		} else {
			sabs = -x
		}
		if sabs > smax {
			smax = sabs
		}
	}
	t := normW32(int32(smax) * int32(smax))
	if smax == 0 {
		return 0
	}
	if t > nbits {
		return 0
	}
	return nbits - t
}

func sizeInBits(n uint32) int16 {
	var bits int16
	if n&0xFFFF0000 != 0 {
		bits = 16
	}
	if 0x0000FF00&(n>>bits) != 0 {
		bits += 8
	}
	if 0x000000F0&(n>>bits) != 0 {
		bits += 4
	}
	if 0x0000000C&(n>>bits) != 0 {
		bits += 2
	}
	if 0x00000002&(n>>bits) != 0 {
		bits++
	}
	if 0x00000001&(n>>bits) != 0 {
		bits++
	}
	return bits
}

func normW32(a int32) int16 {
	if a == 0 {
		return 0
	}
	if a < 0 {
		a = ^a
	}
	u := uint32(a)
	var zeros int16
	if u&0xFFFF8000 == 0 {
		zeros = 16
	}
	if 0xFF800000&(u<<zeros) == 0 {
		zeros += 8
	}
	if 0xF8000000&(u<<zeros) == 0 {
		zeros += 4
	}
	if 0xE0000000&(u<<zeros) == 0 {
		zeros += 2
	}
	if 0xC0000000&(u<<zeros) == 0 {
		zeros++
	}
	return zeros
}

func normU32(a uint32) int16 {
	if a == 0 {
		return 0
	}
	var zeros int16
	if a&0xFFFF0000 == 0 {
		zeros = 16
	}
	if 0xFF000000&(a<<zeros) == 0 {
		zeros += 8
	}
	if 0xF0000000&(a<<zeros) == 0 {
		zeros += 4
	}
	if 0xC0000000&(a<<zeros) == 0 {
		zeros += 2
	}
	if 0x80000000&(a<<zeros) == 0 {
		zeros++
	}
	return zeros
}

// divW32W16 is WebRtcSpl_DivW32W16: C's truncating division, 0x7FFFFFFF for a zero divisor.
func divW32W16(num int32, den int16) int32 {
	if den == 0 {
		return 0x7FFFFFFF
	}
	return num / int32(den)
}

// gaussianProbability is WebRtcVad_GaussianProbability: the (scaled) probability of input
// under one Gaussian, and the input's distance from its mean (delta).
func gaussianProbability(input, mean, std int16, delta *int16) int32 {
	const compVar = 22005
	const log2Exp = 5909 // log2(exp(1)) in Q12
	var expValue int16
	invStd := int16(divW32W16(131072+int32(std>>1), std))
	t := invStd >> 2
	invStd2 := int16(mul16(t, t) >> 2)
	t = input << 3
	t = t - mean
	*delta = int16(mul16(invStd2, t) >> 10)
	t32 := mul16(*delta, t) >> 9
	if t32 < compVar {
		t = int16(mul16(log2Exp, int16(t32)) >> 12)
		t = -t
		expValue = 0x0400 | (t & 0x03FF)
		t ^= -1 // ^= 0xFFFF on a 16-bit value
		t >>= 10
		t++
		expValue >>= uint16(t)
	}
	return int32(invStd) * int32(expValue)
}

// findMinimum is WebRtcVad_FindMinimum: track the 16 smallest values of a band's feature over
// the last 100 frames and return the smoothed median of the low end (the noise floor).
func (c *Classifier) findMinimum(value int16, channel int) int16 {
	const smoothingDown, smoothingUp = 6553, 32439
	offset := channel << 4
	age := c.indexVector[offset : offset+16]
	smallest := c.lowValueVector[offset : offset+16]
	for i := 0; i < 16; i++ {
		if age[i] != 100 {
			age[i]++
		} else {
			for j := i; j < 15; j++ {
				smallest[j] = smallest[j+1]
				age[j] = age[j+1]
			}
			age[15] = 101
			smallest[15] = 10000
		}
	}
	position := -1
	if value < smallest[7] {
		switch {
		case value < smallest[3]:
			switch {
			case value < smallest[1]:
				if value < smallest[0] {
					position = 0
				} else {
					position = 1
				}
			case value < smallest[2]:
				position = 2
			default:
				position = 3
			}
		case value < smallest[5]:
			if value < smallest[4] {
				position = 4
			} else {
				position = 5
			}
		case value < smallest[6]:
			position = 6
		default:
			position = 7
		}
	} else if value < smallest[15] {
		switch {
		case value < smallest[11]:
			switch {
			case value < smallest[9]:
				if value < smallest[8] {
					position = 8
				} else {
					position = 9
				}
			case value < smallest[10]:
				position = 10
			default:
				position = 11
			}
		case value < smallest[13]:
			if value < smallest[12] {
				position = 12
			} else {
				position = 13
			}
		case value < smallest[14]:
			position = 14
		default:
			position = 15
		}
	}
	if position > -1 {
		for i := 15; i > position; i-- {
			smallest[i] = smallest[i-1]
			age[i] = age[i-1]
		}
		smallest[position] = value
		age[position] = 1
	}
	currentMedian := int16(1600)
	if c.frameCounter > 2 {
		currentMedian = smallest[2]
	} else if c.frameCounter > 0 {
		currentMedian = smallest[0]
	}
	var alpha int16
	if c.frameCounter > 0 {
		if currentMedian < c.meanValue[channel] {
			alpha = smoothingDown
		} else {
			alpha = smoothingUp
		}
	}
	t := (int32(alpha) + 1) * int32(c.meanValue[channel])
	t += (32767 - int32(alpha)) * int32(currentMedian)
	t += 16384
	c.meanValue[channel] = int16(t >> 15)
	return c.meanValue[channel]
}

// weightedAverage is WeightedAverage: adds offset to the band's two means (in place) and
// returns their weighted sum.
func weightedAverage(data []int16, offset int16, weights []int16) int32 {
	var avg int32
	for k := 0; k < numGaussians; k++ {
		data[k*numChannels] += offset
		avg += int32(data[k*numChannels]) * int32(weights[k*numChannels])
	}
	return avg
}

// gmmProbability is GmmProbability for a 30 ms frame: the speech/noise log-likelihood test,
// the models' adaptation and the hangover; > 0 is speech.
func (c *Classifier) gmmProbability(features *[numChannels]int16, totalPower int16) int {
	overhead1 := c.mode.overHangMax1[2]
	overhead2 := c.mode.overHangMax2[2]
	individualTest := c.mode.individual[2]
	totalTest := c.mode.total[2]
	vadflag := 0
	if totalPower > minEnergy {
		var deltaN, deltaS [tableSize]int16
		var ngprvec, sgprvec [tableSize]int16
		var noiseProb, speechProb [numGaussians]int32
		var sumLLR int32
		for channel := 0; channel < numChannels; channel++ {
			var h0Test, h1Test int32
			for k := 0; k < numGaussians; k++ {
				g := channel + k*numChannels
				p := gaussianProbability(features[channel], c.noiseMeans[g], c.noiseStds[g], &deltaN[g])
				noiseProb[k] = int32(noiseDataWeights[g]) * p
				h0Test += noiseProb[k]
				p = gaussianProbability(features[channel], c.speechMeans[g], c.speechStds[g], &deltaS[g])
				speechProb[k] = int32(speechDataWeights[g]) * p
				h1Test += speechProb[k]
			}
			shiftsH0, shiftsH1 := normW32(h0Test), normW32(h1Test)
			if h0Test == 0 {
				shiftsH0 = 31
			}
			if h1Test == 0 {
				shiftsH1 = 31
			}
			llr := shiftsH0 - shiftsH1
			sumLLR += int32(llr) * int32(spectrumWeight[channel])
			if int32(llr)<<2 > int32(individualTest) {
				vadflag = 1
			}
			h0 := int16(h0Test >> 12)
			if h0 > 0 {
				t := int32(uint32(noiseProb[0])&0xFFFFF000) << 2
				ngprvec[channel] = int16(divW32W16(t, h0))
				ngprvec[channel+numChannels] = 16384 - ngprvec[channel]
			} else {
				ngprvec[channel] = 16384
			}
			h1 := int16(h1Test >> 12)
			if h1 > 0 {
				t := int32(uint32(speechProb[0])&0xFFFFF000) << 2
				sgprvec[channel] = int16(divW32W16(t, h1))
				sgprvec[channel+numChannels] = 16384 - sgprvec[channel]
			}
		}
		if sumLLR >= int32(totalTest) {
			vadflag |= 1
		}
		maxspe := int16(12800)
		for channel := 0; channel < numChannels; channel++ {
			featureMinimum := c.findMinimum(features[channel], channel)
			noiseGlobalMean := weightedAverage(c.noiseMeans[channel:], 0, noiseDataWeights[channel:])
			t1 := int16(noiseGlobalMean >> 6)
			for k := 0; k < numGaussians; k++ {
				g := channel + k*numChannels
				nmk, smk := c.noiseMeans[g], c.speechMeans[g]
				nsk, ssk := c.noiseStds[g], c.speechStds[g]
				nmk2 := nmk
				if vadflag == 0 {
					delt := int16(mul16(ngprvec[g], deltaN[g]) >> 11)
					nmk2 = nmk + int16(mul16(delt, noiseUpdateConst)>>22)
				}
				ndelt := (featureMinimum << 4) - t1
				nmk3 := nmk2 + int16(mul16(ndelt, backEta)>>9)
				if low := int16((k + 5) << 7); nmk3 < low {
					nmk3 = low
				}
				if high := int16((72 + k - channel) << 7); nmk3 > high {
					nmk3 = high
				}
				c.noiseMeans[g] = nmk3
				if vadflag != 0 {
					delt := int16(mul16(sgprvec[g], deltaS[g]) >> 11)
					t := int16(mul16(delt, speechUpdateConst) >> 21)
					smk2 := smk + ((t + 1) >> 1)
					maxmu := maxspe + 640
					if smk2 < minimumMean[k] {
						smk2 = minimumMean[k]
					}
					if smk2 > maxmu {
						smk2 = maxmu
					}
					c.speechMeans[g] = smk2
					t = (smk + 4) >> 3
					t = features[channel] - t
					a := mul16(deltaS[g], t) >> 3
					b := a - 4096
					t = sgprvec[g] >> 2
					a = int32(t) * b
					b = a >> 4
					if b > 0 {
						t = int16(divW32W16(b, int16(int32(ssk)*10)))
					} else {
						t = int16(divW32W16(-b, int16(int32(ssk)*10)))
						t = -t
					}
					t += 128
					ssk += t >> 8
					if ssk < minStd {
						ssk = minStd
					}
					c.speechStds[g] = ssk
				} else {
					t := features[channel] - (nmk >> 3)
					a := mul16(deltaN[g], t) >> 3
					a -= 4096
					t = (ngprvec[g] + 2) >> 2
					b := int32(t) * a
					a = b >> 14
					if a > 0 {
						t = int16(divW32W16(a, nsk))
					} else {
						t = int16(divW32W16(-a, nsk))
						t = -t
					}
					t += 32
					nsk += t >> 6
					if nsk < minStd {
						nsk = minStd
					}
					c.noiseStds[g] = nsk
				}
			}
			noiseGlobalMean = weightedAverage(c.noiseMeans[channel:], 0, noiseDataWeights[channel:])
			speechGlobalMean := weightedAverage(c.speechMeans[channel:], 0, speechDataWeights[channel:])
			diff := int16(speechGlobalMean>>9) - int16(noiseGlobalMean>>9)
			if diff < minimumDifference[channel] {
				t := minimumDifference[channel] - diff
				t1 := int16(mul16(13, t) >> 2)
				t2 := int16(mul16(3, t) >> 2)
				speechGlobalMean = weightedAverage(c.speechMeans[channel:], t1, speechDataWeights[channel:])
				noiseGlobalMean = weightedAverage(c.noiseMeans[channel:], -t2, noiseDataWeights[channel:])
			}
			maxspe = maximumSpeech[channel]
			t2 := int16(speechGlobalMean >> 7)
			if t2 > maxspe {
				t2 -= maxspe
				for k := 0; k < numGaussians; k++ {
					c.speechMeans[channel+k*numChannels] -= t2
				}
			}
			t2 = int16(noiseGlobalMean >> 7)
			if t2 > maximumNoise[channel] {
				t2 -= maximumNoise[channel]
				for k := 0; k < numGaussians; k++ {
					c.noiseMeans[channel+k*numChannels] -= t2
				}
			}
		}
		c.frameCounter++
	}
	if vadflag == 0 {
		if c.overHang > 0 {
			vadflag = 2 + int(c.overHang)
			c.overHang--
		}
		c.numOfSpeech = 0
	} else {
		c.numOfSpeech++
		if c.numOfSpeech > maxSpeechFrames {
			c.numOfSpeech = maxSpeechFrames
			c.overHang = overhead2
		} else {
			c.overHang = overhead1
		}
	}
	return vadflag
}
