package attest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrDeclined: the user did not accept the statement.
var ErrDeclined = errors.New("the statement was not accepted")

// maxAnswer bounds each line read from the user.
const maxAnswer = 1024

// Prompt shows the statement on out and asks for the user's name (unless
// user is given) and an explicit "yes". It returns the user name.
func Prompt(in io.Reader, out io.Writer, user string) (string, error) {
	r := bufio.NewReader(io.LimitReader(in, 4*maxAnswer))
	fmt.Fprintf(out, "%s\nStatement version %s\n\n", Statement, Version)
	if user == "" {
		fmt.Fprint(out, "Your name, as you sign in to IBHIS: ")
		line, err := readLine(r)
		if err != nil {
			return "", err
		}
		user = line
	}
	if err := CheckUser(user); err != nil {
		return "", fmt.Errorf("attest: %w", err)
	}
	fmt.Fprintf(out, "Type yes to accept this statement as %s: ", user)
	ans, err := readLine(r)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(ans, "yes") {
		return "", ErrDeclined
	}
	return user, nil
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read answer: %w", err)
	}
	if err != nil && line == "" {
		return "", fmt.Errorf("read answer: %w", ErrDeclined)
	}
	if len(line) > maxAnswer {
		return "", fmt.Errorf("read answer: longer than %d bytes", maxAnswer)
	}
	return strings.TrimSpace(line), nil
}
