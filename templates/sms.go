package templates

import "unicode/utf16"

// gsm7 is the GSM 03.38 default alphabet; gsm7Extension the characters of
// its extension table, each sent as an escape and itself (two septets).
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "^{}\\[~]|€\f"
)

var gsm7Set, gsm7ExtSet = runeSet(gsm7), runeSet(gsm7Extension)

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Segments returns how many SMS parts text needs: in GSM-7 (extension
// characters count two) 160 septets fit one part and 153 each part of a
// longer message; otherwise it goes as UCS-2, counted in UTF-16 code units,
// 70 in one part and 67 in each part of a longer one. Empty text needs none.
func Segments(text string) int {
	if text == "" {
		return 0
	}
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case gsm7Set[r]:
			septets++
		case gsm7ExtSet[r]:
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return parts(septets, 160, 153)
	}
	return parts(len(utf16.Encode([]rune(text))), 70, 67)
}

func parts(units, single, multi int) int {
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
