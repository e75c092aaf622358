# Early-exit policy as personal data arrive
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 52.63444178425599 90.72442282199732 85.66666666666667 13.681563696638788
2 41.45029684836665 44.35966769640729 82.0 29.287551686009543
3 30.924067896448395 3.9404637956840856 81.66666666666667 35.8554394145788
4 31.17807120300989 6.557328122053111 83.33333333333333 33.080407952644514
EOD
set title "Early-exit policy as personal data arrive"
set xlabel "data-growth round (personal data arrive each round)"
set ylabel "percent"
set xtics 1
set yrange [0:105]
set grid
set key outside top center horizontal
set style fill transparent solid 0.2 noborder
plot $rounds using 1:($2-$3):($2+$3) with filledcurves linecolor rgb "#3366aa" title "FLOPs 95% CI", \
     $rounds using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb "#3366aa" title "policy FLOPs (% of the full network)", \
     $rounds using 1:($4-$5):($4+$5) with filledcurves linecolor rgb "#aa6633" title "accuracy 95% CI", \
     $rounds using 1:4 with linespoints pointtype 5 linewidth 2 linecolor rgb "#aa6633" title "policy test accuracy (%)"
