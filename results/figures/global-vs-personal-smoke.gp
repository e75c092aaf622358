# Per-user gain over the global model (smoke scale)
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$users << EOD
-0.18 17.000000000000004
0.04249223595000001 21.999999999999996
-0.09501552809999997 4.999999999999993
0.8200000000000001 13.0
1.04249223595 15.000000000000002
0.9049844719 1.9999999999999907
1.82 7.000000000000006
2.04249223595 8.000000000000007
1.9049844719 -2.0000000000000018
2.82 -2.0000000000000018
3.04249223595 -5.000000000000004
2.9049844719 -2.0000000000000018
3.82 0.0
4.04249223595 0.0
3.9049844719 -3.0000000000000027
EOD
$means << EOD
0.0 14.666666666666664 21.70365022406212 "block2"
1.0 9.999999999999996 17.3889639822523 "block4"
2.0 4.3333333333333375 13.681563696638802 "block6"
3.0 -3.000000000000002 4.302652729749459 "block8"
4.0 -1.0000000000000009 4.302652729749459 "policy"
EOD
set title "Per-user gain over the global model (smoke scale)"
set ylabel "gain over the global model (percentage points)"
set xlabel "classifier (exits on the same global exit; policy on the global final classifier)"
set xrange [-0.6:4.6]
set grid ytics
set key outside top center horizontal
set arrow from graph 0, first 0 to graph 1, first 0 nohead linecolor rgb "#444444"
plot $users using 1:2 with points pointtype 7 pointsize 0.5 linecolor rgb "#8899bb" title "one user run", \
     $means using 1:2:3:xtic(4) with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 linecolor rgb "#222222" title "mean ± 95% CI", \
     15.9 with lines dashtype 2 linecolor rgb "#aa3333" title "paper: up to +15.9 pts"
