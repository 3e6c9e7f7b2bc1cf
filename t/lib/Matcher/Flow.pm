package Matcher::Flow;

# Flow tests: requests whose input depends on an earlier reply (an id
# from a POST, a version for If-Match), concurrent requests, restarts and
# reloads.  Test::Nginx's block format cannot chain requests, so these
# tests are plain Test::More on top of our runner's nginx lifecycle (same
# prefix layout, modules, valgrind mode and log checks).

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);

use Test::Nginx::Socket ();

use Exporter 'import';
our @EXPORT = qw(start_server stop_server reload_server request json
                 send_raw read_raw expect_clean_log synthetic_creator);

my $Json = JSON::PP->new->canonical->allow_nonref;
my %Conf;

sub json { $Json }

{
    package Matcher::Flow::Block;
    sub new { my ($c, %a) = @_; bless {%a}, $c }
    our $AUTOLOAD;
    sub AUTOLOAD {
        my $self = shift;
        (my $n = $AUTOLOAD) =~ s/.*:://;
        return if $n eq 'DESTROY';
        return $self->{$n};
    }
}

# start_server(http_config => ..., config => ..., workers => N, name => ...,
#              before_start => sub { my ($server_root) = @_; ... })
sub start_server {
    my %a = (@_ ? @_ : %Conf);
    # the suite's LMDB store as a MongoDB one when Matcher::Store says so
    $a{http_config} = Matcher::Store::rewrite($a{http_config})
        if defined &Matcher::Store::rewrite;
    %Conf = %a;
    no warnings 'once';
    $Test::Nginx::Socket::Workers = $a{workers} || 1;
    Test::Nginx::Socket::setup_server_root()
        unless -d "$Test::Nginx::Socket::ServRoot/logs";
    my $block = Matcher::Flow::Block->new(name => $a{name} || 'flow',
        http_config => $a{http_config}, config => $a{config});
    Test::Nginx::Socket::write_file($Test::Nginx::Socket::ConfFile,
                                    Test::Nginx::Socket::build_conf($block));
    $a{before_start}->($Test::Nginx::Socket::ServRoot) if $a{before_start};
    my $wait = $Test::Nginx::Socket::UseValgrind ? 60 : 20;
    my $st = Test::Nginx::Socket::start_nginx($wait,
                                              $Test::Nginx::Socket::UseValgrind);
    BAIL_OUT("nginx did not start: $st->{why}") unless $st->{up};
    # the thread pool and the store open in the workers, just after listen
    sleep($Test::Nginx::Socket::UseValgrind ? 2 : 0.2);
    return 1;
}

# A graceful stop waits for the thread pool's running job (nginx joins
# its threads): under valgrind a background sync of thousands of
# creators takes a minute or more, natively about a second.
sub stop_server {
    my $st = Test::Nginx::Socket::stop_nginx(
        $Test::Nginx::Socket::UseValgrind ? 180 : 5);
    ok(!$st->{killed}, 'nginx stopped gracefully');
    expect_clean_log();
    Test::Nginx::Socket::check_valgrind('flow', $st->{pid})
        if $Test::Nginx::Socket::UseValgrind && $st->{pid};
}

# HUP the master and wait until the old workers are gone
sub reload_server {
    my @old = Test::Nginx::Socket::worker_pids();
    die "reload needs a master process; valgrind mode runs without one\n"
        if $Test::Nginx::Socket::UseValgrind;
    kill 'HUP', $Test::Nginx::Socket::NginxPid;
    for (1 .. 200) {
        sleep 0.05;
        next if grep { kill 0, $_ } @old;
        my @new = Test::Nginx::Socket::worker_pids();
        return 1 if @new;
    }
    fail('reload did not replace the workers');
}

sub expect_clean_log {
    open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or return;
    my @bad = grep { /\[(?:alert|emerg)\]|exited on signal|$Test::Nginx::Socket::SanitizerRe/ }
              <$fh>;
    ok(!@bad, 'no [alert], [emerg], signal or sanitizer report in error.log')
        or diag(join '', @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
}

sub build {
    my ($method, $uri, $body, %h) = @_;
    $body = $Json->encode($body) if ref $body;
    my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    $h{'Content-Type'} //= 'application/json' if defined $body;
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    $req .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
    return "$req\r\n" . ($body // '');
}

# open a connection and send a request without reading the reply yet
sub send_raw {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $Test::Nginx::Socket::ServerPort, Proto => 'tcp',
        Timeout => 5) or die "connect: $!";
    print {$sock} build(@_);
    return $sock;
}

sub read_raw {
    my ($sock, $head) = @_;
    my $timeout = $Test::Nginx::Socket::UseValgrind ? 60 : 30;
    my $sel = IO::Select->new($sock);
    my $raw = '';
    my $deadline = time + $timeout;
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }
    close $sock;
    my ($res) = Test::Nginx::Socket::parse_response($raw, $head);
    $res //= { code => 0, headers => {}, body => '' };
    my %out = (status => $res->{code} + 0, body => $res->{body},
               headers => { map { $_ => join(', ', @{ $res->{headers}{$_} }) }
                            keys %{ $res->{headers} } });
    $out{json} = eval { $Json->decode($res->{body}) }
        if ($out{headers}{'content-type'} // '') =~ /json/;
    return \%out;
}

# synthetic_creator(PREFIX, I, BIO): creator I of a made-up set, id
# "prefix-0000I", its niche the I-th of eight in turn, its region the
# I-th of three; BIO is a sprintf format given the niche (lowercase), I
my @Niches = ('Personal Finance', 'Cooking', 'Travel', 'Fitness',
              'Gardening', 'Tech Reviews', 'Parenting', 'Comedy');

sub synthetic_creator {
    my ($prefix, $i, $bio) = @_;
    my $n = $Niches[$i % @Niches];
    return {
        uniqueId => sprintf('%s-%05d', lc $prefix, $i),
        nickname => "$prefix $i",
        bio => sprintf($bio, lc $n, $i),
        followerCount => 1000 + $i,
        region => ('US', 'UK', 'EU')[$i % 3],
        analysis => {
            summary => "A creator about $n.",
            primaryNiches => [$n],
            apparentValues => ['Clarity'],
            engagementStyle => { tone => ['Informative'] },
        },
    };
}

# request(METHOD, URI, [BODY (string or ref)], [HEADER => VALUE ...])
sub request {
    my ($method, $uri, $body, %h) = @_;
    return read_raw(send_raw($method, $uri, $body, %h), $method eq 'HEAD');
}

1;
