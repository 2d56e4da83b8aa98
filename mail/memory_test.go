package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jhillyerd/enmime"

	"switchboard/connectaws"
	"switchboard/ent/email"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
)

// largeSize is the attachment the memory test sends through: 25 MB.
const largeSize = 25 << 20

// TestS3Process is not a test: it is the fake S3 and SES of the memory
// tests, run in a process of their own so that what they hold in memory is
// not counted against switchboard.
func TestS3Process(t *testing.T) {
	if os.Getenv("MAIL_TEST_S3_PROCESS") != "1" {
		t.Skip("the fake S3 and SES process of the memory tests")
	}
	s := fakeaws.NewS3(t)
	ses := fakeaws.NewSES(t)
	fmt.Printf("URLS=%s %s\n", s.URL, ses.URL)
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
}

// startS3Process runs TestS3Process and returns the URLs of its S3 and SES.
func startS3Process(t *testing.T) (s3URL, sesURL string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestS3Process$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MAIL_TEST_S3_PROCESS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URLS="); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			s3URL, sesURL, _ = strings.Cut(u, " ")
			return s3URL, sesURL
		}
	}
	t.Fatalf("the fake S3 process did not start: %v", sc.Err())
	return "", ""
}

// lineWriter breaks base64 into 76-character lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n, p, l.col = n+k, p[k:], l.col+k
		if l.col == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// randomReader is a seeded stream of bytes.
type randomReader struct{ r *rand.Rand }

func (r randomReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// writeLargeMessage writes a message with a 25 MB attachment to a file,
// streaming, and returns its path and the attachment's SHA-256.
func writeLargeMessage(t *testing.T) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "large.eml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "From: customer@example.net\r\nTo: support@acme.example\r\nSubject: The recording\r\n"+
		"Message-ID: <large@example.net>\r\nDate: Mon, 23 Nov 2026 09:15:00 +0000\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe call, attached.\r\n"+
		"--b1\r\nContent-Type: audio/wav\r\nContent-Disposition: attachment; filename=call.wav\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n")
	h := sha256.New()
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: w})
	src := io.LimitReader(randomReader{rand.New(rand.NewPCG(25, 25))}, largeSize)
	if _, err := io.Copy(io.MultiWriter(enc, h), src); err != nil {
		t.Fatal(err)
	}
	enc.Close()
	fmt.Fprint(w, "\r\n--b1\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\n"+
		"Second attachment.\r\n--b1--\r\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return path, sum
}

// heapSampler records the peak of the heap's allocated bytes.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

var heapObjects = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapObjects[0].Name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), peak: heapNow()}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				h.peak = max(h.peak, heapNow())
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return max(h.peak, heapNow())
}

// TestLargeAttachmentMemory sends an inbound message with a 25 MB
// attachment through Receive and measures the heap: the attachment is
// streamed from the content bucket into the attachments bucket, never held
// whole, let alone twice.
func TestLargeAttachmentMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("moves 60 MB; heap figures need the race detector off")
	}
	s3URL, _ := startS3Process(t)
	e := newEnv(t, testenv.Backends()[0], func(_ *mail.Options, o *connectaws.Options) { o.S3Endpoint = s3URL })
	path, sum := writeLargeMessage(t)
	ctx := context.Background()

	// Store the message as SES would (any credentials: the fake S3 in its
	// own process checks none).
	raw := s3.New(s3.Options{
		Region: "eu-west-2", BaseEndpoint: aws.String(s3URL), UsePathStyle: true,
		Credentials: credentials.StaticCredentialsProvider{Value: platform},
	})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	_, err = raw.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(e.a.content), Key: aws.String("inbound/large"), Body: f,
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := sampleHeap()
	got, err := e.svc.Receive(ctx, e.a.inst, e.a.content, "inbound/large")
	peak := sampler.Stop()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(before.HeapAlloc)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("message %.1f MB, attachment %d MB: heap peak +%.1f MB (%.2f× the attachment), %.1f MB allocated in all",
		float64(info.Size())/1e6, largeSize>>20, float64(growth)/(1<<20), float64(growth)/largeSize, float64(allocated)/(1<<20))
	if growth > largeSize*5/2 {
		t.Errorf("heap grew by %d bytes: more than 2.5× the attachment", growth)
	}
	if growth > largeSize {
		t.Errorf("heap grew by %d bytes: the attachment was held whole", growth)
	}
	if got.State != email.StateROUTED || got.Subject != "The recording" {
		t.Errorf("recorded %+v", got)
	}

	// The attachment arrived whole, byte for byte.
	obj, err := raw.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.a.attachments), Key: aws.String("large@example.net/1-call.wav")})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	obj.Body.Close()
	if err != nil || n != largeSize || !bytes.Equal(h.Sum(nil), sum[:]) || obj.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Errorf("stored attachment: %d bytes, %v, SSE %q", n, err, obj.ServerSideEncryption)
	}

	// For comparison, enmime reading the same message whole.
	if os.Getenv("MAIL_TEST_COMPARE_ENMIME") == "1" {
		data, _ := os.ReadFile(path)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		s := sampleHeap()
		env, err := enmime.ReadEnvelope(bytes.NewReader(data))
		p := s.Stop()
		runtime.ReadMemStats(&m1)
		if err == nil {
			t.Logf("enmime.ReadEnvelope of the same message (itself in memory): heap peak +%.1f MB, %.1f MB allocated (%d attachments)",
				float64(int64(p)-int64(m0.HeapAlloc))/(1<<20), float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), len(env.Attachments))
		}
		runtime.KeepAlive(data)
	}
}

// TestLargeOutboundMemory sends an email with a 25 MB attachment and
// measures the heap. Send holds the message once, encoded (4/3 of the
// attachment), in a buffer sized up front. SES takes the message as one
// base64 value in a JSON body, which is streamed from that buffer
// (rawbody.go) rather than built by the SDK (which would take about 5× the
// attachment in all): about 1.7× the attachment.
func TestLargeOutboundMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("moves 60 MB; heap figures need the race detector off")
	}
	s3URL, sesURL := startS3Process(t)
	e := newEnv(t, testenv.Backends()[0], func(_ *mail.Options, o *connectaws.Options) { o.S3Endpoint, o.SESEndpoint = s3URL, sesURL })
	src := io.LimitReader(randomReader{rand.New(rand.NewPCG(5, 5))}, largeSize)

	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := sampleHeap()
	sent, err := e.svc.Send(e.a.agent, mail.Outgoing{
		From: e.a.address.ID, To: []string{"customer@example.net"}, Subject: "The recording", Text: "Attached.",
		Attachments: []mail.Attachment{{FileName: "call.wav", ContentType: "audio/wav", Body: src, Size: largeSize}},
	})
	peak := sampler.Stop()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(before.HeapAlloc)
	t.Logf("send with a %d MB attachment: heap peak +%.1f MB (%.2f× the attachment), %.1f MB allocated in all",
		largeSize>>20, float64(growth)/(1<<20), float64(growth)/largeSize, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	if growth > largeSize*5/2 {
		t.Errorf("heap grew by %d bytes: more than 2.5× the attachment", growth)
	}
	if sent.State != email.StateSENT || sent.ObjectKey == "" {
		t.Errorf("recorded %+v", sent)
	}
}
